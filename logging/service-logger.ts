// Service logs are JSON lines on stderr: stdout carries only the one ready line a parent reads.

export function serviceLogger(base: Record<string, string>) {
  return { level: process.env.ZTMINT_LOG_LEVEL ?? 'warn', base, stream: process.stderr };
}
