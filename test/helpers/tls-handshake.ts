import tls from 'node:tls';

/** How a TLS handshake with these options ended: `<protocol> <cipher>`, or `refused <code>`. */
export async function handshake(port: number, caPem: string, opts: tls.ConnectionOptions): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port, ca: caPem, servername: 'localhost', ...opts });
  try {
    return await new Promise<string>((resolve) => {
      socket.once('secureConnect', () => resolve(`${socket.getProtocol()} ${socket.getCipher().name}`));
      socket.once('error', (err: Error & { code?: string }) => resolve(`refused ${err.code ?? err.message}`));
    });
  } finally {
    socket.destroy();
  }
}
