// The contract between the BFD sessions and what follows them (track_bfd, BFD_CHECK).
/** The BFD sessions that track_bfd and BFD_CHECK follow; the BfdEndpoint implements it. */
export interface BfdSessions {
  /** Whether the session is Up; undefined when there is no such session. */
  isUp(name: string): boolean | undefined;
  /** Told every change of a session between Up and not Up; returns the unsubscribe. */
  watch(cb: (name: string, up: boolean, reason: string) => void): () => void;
}
