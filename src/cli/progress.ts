/**
 * A one-line progress bar on stderr when it is a terminal (`[#####.....] 45/181 slices 3.2 s`),
 * nothing otherwise, so logs and pipes stay clean.
 */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): { update: (done: number, total: number) => void; end: () => void } {
  const tty = Boolean(stream.isTTY);
  const start = Date.now();
  let shown = false;
  return {
    update(done, total) {
      if (!tty) return;
      const width = 30;
      const filled = total > 0 ? Math.round((done / total) * width) : width;
      const secs = ((Date.now() - start) / 1000).toFixed(1);
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label} ${secs} s`);
      shown = true;
    },
    end() {
      if (tty && shown) stream.write('\n');
    },
  };
}
