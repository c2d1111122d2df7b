// Starts `ferry serve --port 0` for a client test and stops it afterwards.
//
// The server prints its endpoint URL on the first line of stdout once it
// accepts connections; SIGTERM drains it and it exits 0. The path of the
// `ferry` program comes from the FERRY_BINARY environment variable (run.mjs
// sets it).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export function ferryBinary() {
  const binary = process.env.FERRY_BINARY;
  if (!binary) throw new Error('FERRY_BINARY is not set (run the tests through run.mjs)');
  return binary;
}

// Resolves to { url, stop() } once the server printed its URL.
export function startFerry(extraArgs = []) {
  const child = spawn(ferryBinary(), ['serve', '--port', '0', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    child.once('error', reject);
    exited.then(({ code, signal }) => reject(new Error(`ferry serve exited (${code ?? signal}) before printing its URL`)));
    lines.once('line', (line) => {
      line = line.trim();
      if (!line.startsWith('http://')) {
        child.kill('SIGKILL');
        reject(new Error(`ferry serve printed ${JSON.stringify(line)}, not a URL`));
        return;
      }
      resolve({
        url: line,
        async stop() {
          child.kill('SIGTERM');
          const { code, signal } = await exited;
          lines.close();
          if (code !== 0) throw new Error(`ferry serve exited ${code ?? signal} after SIGTERM`);
        },
      });
    });
  });
}

// Dummy credentials: the gateway accepts any signature unless it is given
// credentials to check.
export const clientConfig = (url) => ({
  endpoint: url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  maxAttempts: 1,
});
