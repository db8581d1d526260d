/** Fixed keys of the projects a fuzz server starts with (a throwaway server: nothing secret about them). */
export const FUZZ_KEYS = {
  /** The default project: uploads, files, deliveries. */
  main: { publicKey: 'fuzzpublickey0000001', secretKey: 'fuzzsecretkey00000000000000000001' },
  /** Requests that change project settings or keys land here, so they cannot starve the others of coverage. */
  sandbox: { publicKey: 'fuzzsandboxkey000002', secretKey: 'fuzzsandboxsecret000000000000002' },
  /** Signed uploads required: signature and expire are checked. */
  signed: { publicKey: 'fuzzsignedkey0000003', secretKey: 'fuzzsignedsecret0000000000000003' },
} as const;
