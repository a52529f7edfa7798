/** The package's public hooks entry point: require('dicom-pipeline/hooks'). */
export { registry, HookRegistry, type Hook, type HookContext } from './registry';
export { openIdentityDb } from './identity-access';
