/**
 * The shell's own back/forward list (the webview has no navigation API, and the content
 * frame's session history is another origin's). Entries are canonical btweb addresses.
 */
export class ShellHistory {
  readonly #entries: string[] = []
  #index = -1

  get current (): string | null { return this.#entries[this.#index] ?? null }
  get canBack (): boolean { return this.#index > 0 }
  get canForward (): boolean { return this.#index < this.#entries.length - 1 }

  /** A new page: drops the forward entries, like every browser. */
  push (address: string): void {
    if (address === this.current) return
    this.#entries.splice(this.#index + 1, Infinity, address)
    this.#index = this.#entries.length - 1
  }

  /** The current page turned out to live elsewhere (redirect, replaceState). */
  replace (address: string): void {
    if (this.#index < 0) this.push(address)
    else this.#entries[this.#index] = address
  }

  back (): string | null { return this.canBack ? this.#entries[--this.#index] : null }
  forward (): string | null { return this.canForward ? this.#entries[++this.#index] : null }
}
