import { listFiles, scanFile, type InstanceInfo } from './instance-info';
import { requireDirectory } from './paths';

export interface ValueCount {
  readonly value: string;
  readonly count: number;
}

/**
 * What an operator wants to know about a folder of DICOM files. Counts next to values are:
 * studies for study descriptions and patient names, series for series descriptions and modalities.
 * Patient names are PHI in identified data: this result is for the operator's terminal only.
 */
export interface DirectorySummary {
  readonly dir: string;
  readonly files: number;
  readonly studies: number;
  readonly series: number;
  /** By Patient ID; files without one are grouped by patient name. */
  readonly patients: number;
  readonly modalities: readonly ValueCount[];
  readonly studyDescriptions: readonly ValueCount[];
  readonly seriesDescriptions: readonly ValueCount[];
  readonly patientNames: readonly ValueCount[];
  readonly nonDicom: readonly { readonly path: string; readonly reason: string }[];
}

/** Counts distinct (value, owner) pairs, so a value shared by many files of one study counts once. */
class Tally {
  private readonly owners = new Map<string, Set<string>>();
  add(value: string, owner: string): void {
    let set = this.owners.get(value);
    if (!set) this.owners.set(value, (set = new Set()));
    set.add(owner);
  }
  result(): ValueCount[] {
    return [...this.owners]
      .map(([value, owners]) => ({ value, count: owners.size }))
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  }
}

/** An aggregator over instances, usable without the file system. */
export class SummaryBuilder {
  private files = 0;
  private readonly studies = new Set<string>();
  private readonly series = new Set<string>();
  private readonly patients = new Set<string>();
  private readonly modalities = new Tally();
  private readonly studyDescriptions = new Tally();
  private readonly seriesDescriptions = new Tally();
  private readonly patientNames = new Tally();
  private readonly nonDicom: { path: string; reason: string }[] = [];

  add(info: InstanceInfo): void {
    this.files++;
    const study = info.studyUid;
    const series = `${study}/${info.seriesUid}`;
    this.studies.add(study);
    this.series.add(series);
    this.patients.add(info.patientId ? `id:${info.patientId}` : `name:${info.patientName}`);
    this.modalities.add(info.modality, series);
    this.studyDescriptions.add(info.studyDescription, study);
    this.seriesDescriptions.add(info.seriesDescription, series);
    this.patientNames.add(info.patientName, study);
  }

  addNonDicom(path: string, reason: string): void {
    this.nonDicom.push({ path, reason });
  }

  build(dir: string): DirectorySummary {
    return {
      dir,
      files: this.files,
      studies: this.studies.size,
      series: this.series.size,
      patients: this.patients.size,
      modalities: this.modalities.result(),
      studyDescriptions: this.studyDescriptions.result(),
      seriesDescriptions: this.seriesDescriptions.result(),
      patientNames: this.patientNames.result(),
      nonDicom: this.nonDicom,
    };
  }
}

/** Reads every file under dir (hidden files and symbolic links excluded); bad files are listed, never fatal. */
export function summarizeDirectory(dir: string, onFile?: (done: number, total: number) => void): DirectorySummary {
  const root = requireDirectory(dir, 'directory');
  const files = listFiles(root);
  const builder = new SummaryBuilder();
  files.forEach((rel, i) => {
    const file = scanFile(root, rel);
    if (file.kind === 'dicom') builder.add(file.info);
    else builder.addNonDicom(rel, file.reason);
    onFile?.(i + 1, files.length);
  });
  return builder.build(root);
}
