// Example post-anonymization hook. Copy this file to the directory you run dicom-pipeline from
// (as custom_hooks.js) and set "postAnonHook": "link-studies" in dicom-pipeline.json.
//
// It links every anonymized study of the run to its pseudonymous patient through identity.db and
// writes the links to study_links.csv in the run directory: a research database can load that file
// to group studies by patient without ever seeing who the patient is. Institutions replace this with
// their own linking (e.g. to an encounter in a research data warehouse).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { registry, openIdentityDb } = require('dicom-pipeline/hooks');

registry.register(({ runDir, overview, practice, identityDb }) => {
  const toProduction = path.join(runDir, 'to_production');
  const studies = fs.existsSync(toProduction) ? fs.readdirSync(toProduction).filter((d) => /^[0-9.]+$/.test(d)) : [];
  const db = openIdentityDb(identityDb);
  try {
    const patientOf = db.prepare('SELECT patient_cleaned FROM study_patient WHERE study_cleaned = ?').pluck();
    const rows = studies.map((study) => `${study},${patientOf.get(study) ?? ''}`);
    // Practice runs may write inside their own run directory only.
    fs.writeFileSync(path.join(runDir, 'study_links.csv'), ['study_instance_uid,patient_id', ...rows].join('\n') + '\n');
    const patients = new Set(rows.map((r) => r.split(',')[1]));
    overview.write(`${studies.length} studies linked to ${patients.size} pseudonymous patients${practice ? ' (practice)' : ''}`);
    return `linked ${studies.length} studies to ${patients.size} patients: study_links.csv\n`;
  } finally {
    db.close();
  }
}, { name: 'link-studies' });
