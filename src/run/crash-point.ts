/**
 * Fault injection for the crash-and-resume tests: DICOM_PIPELINE_CRASH_AT="<step>:<n>" kills this
 * process with SIGKILL (no cleanup, exactly like `kill -9`) once the step has handled n instances.
 * Unset in normal use, where it costs one comparison per progress update.
 */
const spec = process.env.DICOM_PIPELINE_CRASH_AT;
const [crashStep, crashCount] = spec ? [spec.split(':')[0], Number(spec.split(':')[1])] : [undefined, NaN];

export function crashPoint(step: string, handled: number): void {
  if (step === crashStep && handled >= crashCount) process.kill(process.pid, 'SIGKILL');
}
