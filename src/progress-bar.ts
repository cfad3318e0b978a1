/** A one-line progress bar on stderr (only when stderr is a terminal; otherwise a line per 25%). */
export function progressBar (label: string, stream: NodeJS.WriteStream = process.stderr): { update (done: number, total: number): void, end (): void } {
  let lastDraw = 0
  let lastQuarter = -1
  const tty = stream.isTTY === true
  return {
    update (done, total) {
      const fraction = total > 0 ? done / total : 1
      if (tty) {
        const now = Date.now()
        if (now - lastDraw < 100 && done < total) return
        lastDraw = now
        const width = 30
        const filled = Math.round(fraction * width)
        stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${(done / 2 ** 20).toFixed(1)}/${(total / 2 ** 20).toFixed(1)} MB`)
      } else {
        const quarter = Math.floor(fraction * 4)
        if (quarter > lastQuarter && total > 8 * 2 ** 20) { lastQuarter = quarter; stream.write(`${label} ${quarter * 25}%\n`) }
      }
    },
    end () { if (tty && lastDraw) stream.write('\n') }
  }
}
