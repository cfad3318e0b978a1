/** Resolve on the first SIGINT or SIGTERM (then remove the handlers, so a second one kills). */
export async function waitForSignal (): Promise<NodeJS.Signals> {
  return await new Promise(resolve => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on)
      process.off('SIGTERM', on)
      resolve(sig)
    }
    process.on('SIGINT', on)
    process.on('SIGTERM', on)
  })
}
