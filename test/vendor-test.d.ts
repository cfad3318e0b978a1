// Types for packages only the tests use.
declare module 'parse-torrent' {
  export default function parseTorrent (torrent: Uint8Array | string): Promise<{ infoHash: string, name: string, files: Array<{ path: string, length: number }>, pieces: string[], pieceLength: number }>
}
