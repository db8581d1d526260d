/** ipx (npm) serving a folder over HTTP, as the peer in bench/transform.bench.ts: `tsx bench/peers/ipx-server.ts <dir> <port>`. */
import { createServer } from 'node:http';
import { createIPX, createIPXNodeServer, ipxFSStorage } from 'ipx';

const [dir, port] = process.argv.slice(2);
if (!dir || !port) throw new Error('usage: ipx-server.ts <dir> <port>');
const ipx = createIPX({ storage: ipxFSStorage({ dir }) });
createServer(createIPXNodeServer(ipx)).listen(Number(port), '127.0.0.1', () => process.send?.('ready'));
