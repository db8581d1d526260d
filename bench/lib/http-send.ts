import { request as httpRequest, type Agent } from 'node:http';

export interface Reply {
  status: number;
  body: Buffer;
}

/** One request over plain node:http (cheap beside the server on shared cores), the answer read whole. */
export function send(agent: Agent, url: string, method: string, headers: Record<string, string | number>, body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method, headers, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}
