// btweb does not speak WebRTC (TCP and uTP only). webtorrent only constructs these
// when a WebRTC peer is offered, which btweb never does; if it ever happens the error says why.
class Unavailable {
  constructor () { throw new Error('WebRTC is not available in btweb (TCP/uTP only)') }
}
export const RTCPeerConnection = Unavailable
export const RTCSessionDescription = Unavailable
export const RTCIceCandidate = Unavailable
export default { RTCPeerConnection, RTCSessionDescription, RTCIceCandidate }
