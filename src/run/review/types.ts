/** One study a reviewer released for research. */
export interface ReviewedStudy {
  readonly studyInstanceUid: string;
  readonly hasProtocolSeries: boolean;
  readonly comments: readonly string[];
  /** How the source names the study in messages (a row or database id): never PHI. */
  readonly label: string;
}

export interface Selection {
  /** In a deterministic order, at most `max`. */
  readonly studies: readonly ReviewedStudy[];
  /** Selected studies whose reviews disagree: the run stops so an operator can decide. */
  readonly conflicts: readonly ReviewedStudy[];
}

export interface StudyOutcome {
  readonly studyInstanceUid: string;
  readonly pushed: boolean;
  /** The anonymized Study Instance UID, when pushed. */
  readonly anonymizedStudyUid?: string;
  readonly error?: string;
}

/** Where reviewed studies come from, and where the outcome is written back (files answer at once, servers later). */
export interface ReviewSource {
  readonly description: string;
  select(max: number): Selection | Promise<Selection>;
  /** Whether the study (by original UID) is known to the source, for protocol checks. */
  protocolStudies(studyUids: readonly string[]): Set<string> | Promise<Set<string>>;
  markOutcomes(outcomes: readonly StudyOutcome[]): void | Promise<void>;
  close(): void | Promise<void>;
}
