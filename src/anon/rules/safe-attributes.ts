/**
 * The reviewed safe list: public attributes that PS3.15 Table E.1-1 does not name but that an image
 * needs to stay usable. Anything neither in the table nor allowed here is removed (default-deny).
 *
 * Two parts, each reviewable on its own:
 * 1. SAFE_KEYWORDS: attributes kept by name, whatever their VR (text included). Every text entry
 *    here holds a coded or technical value (modality, coil name, kernel), not free text about people.
 * 2. Technical groups: in the groups listed in TECHNICAL_GROUPS (acquisition, geometry, pixel
 *    description, functional groups), attributes whose VR cannot carry a name or free text
 *    (numbers, codes, tags, sequences: NON_TEXT_VRS) are kept; their text, date and time attributes
 *    still need to be named here or in the table.
 * Sequences kept by either rule are recursed: the rules apply to their items as to the top level.
 */
export const SAFE_KEYWORDS: readonly string[] = [
  // SOP common, general image and series: identity of the object's kind, never of the patient
  'SpecificCharacterSet', 'ImageType', 'SOPClassUID', 'InstanceNumber', 'Modality', 'SeriesNumber',
  'AcquisitionNumber', 'Laterality', 'ImageLaterality', 'PatientPosition', 'BodyPartExamined',
  'AnatomicalOrientationType', 'PatientOrientation', 'PresentationIntentType', 'ConversionType',
  'QualityControlImage', 'BurnedInAnnotation', 'RecognizableVisualFeatures',
  'LossyImageCompression', 'LossyImageCompressionRatio', 'LossyImageCompressionMethod',
  'PresentationLUTShape', 'ImagesInAcquisition', 'ContentQualification', 'PositionReferenceIndicator',
  // equipment: make and model (needed for research quality control; suspect ones are quarantined)
  'Manufacturer', 'ManufacturerModelName', 'SoftwareVersions',
  // enhanced multi-frame image description (group 0008, CS)
  'FrameType', 'PixelPresentation', 'VolumetricProperties', 'VolumeBasedCalculationTechnique',
  'ComplexImageComponent', 'AcquisitionContrast',
  // acquisition parameters held as short technical text
  'ScanningSequence', 'SequenceVariant', 'ScanOptions', 'MRAcquisitionType', 'SequenceName',
  'ImagedNucleus', 'ReceiveCoilName', 'TransmitCoilName', 'ConvolutionKernel', 'FilterType',
  'RotationDirection', 'ContrastBolusRoute', 'ContrastBolusIngredient', 'InPlanePhaseEncodingDirection',
  'RescaleType', 'PhotometricInterpretation',
  // code sequence macro (Table 8.8-1): values from coding schemes
  'CodeValue', 'CodingSchemeDesignator', 'CodingSchemeVersion', 'CodeMeaning', 'LongCodeValue',
  'URNCodeValue', 'MappingResource', 'MappingResourceName', 'ContextIdentifier',
  'ContextGroupExtensionFlag', 'EquivalentCodeSequence',
  // class UIDs (kinds of objects, coding schemes): never identify an instance, so never remapped
  'ReferencedSOPClassUID', 'RelatedGeneralSOPClassUID', 'OriginalSpecializedSOPClassUID',
  'CodingSchemeUID', 'ContextUID', 'MappingResourceUID', 'ContextGroupExtensionCreatorUID',
  // anatomy and derivation codes
  'AnatomicRegionSequence', 'AnatomicRegionModifierSequence', 'PrimaryAnatomicStructureSequence',
  'PrimaryAnatomicStructureModifierSequence', 'DerivationCodeSequence', 'PurposeOfReferenceCodeSequence',
  'ReferencedFrameNumber', 'ReferencedSegmentNumber', 'SpatialLocationsPreserved',
  // real-world value mapping
  'RealWorldValueMappingSequence', 'LUTLabel', 'MeasurementUnitsCodeSequence',
  'RealWorldValueIntercept', 'RealWorldValueSlope', 'RealWorldValueFirstValueMapped', 'RealWorldValueLastValueMapped',
  'RealWorldValueLUTData', 'DoubleFloatRealWorldValueFirstValueMapped', 'DoubleFloatRealWorldValueLastValueMapped',
  // structured content skeleton (only reached when Clean Structured Content is selected): codes and numbers
  'ValueType', 'RelationshipType', 'ContinuityOfContent', 'ConceptNameCodeSequence', 'ConceptCodeSequence',
  'MeasuredValueSequence', 'NumericValue', 'FloatingPointValue', 'ContentTemplateSequence', 'TemplateIdentifier',
  'ReferencedContentItemIdentifier', 'CompletionFlag', 'VerificationFlag',
  // De-identification attributes (we rewrite them)
  'PatientIdentityRemoved', 'DeidentificationMethod', 'DeidentificationMethodCodeSequence',
  'LongitudinalTemporalInformationModified',
];

/**
 * Safe-list text attributes that hold short technical strings: kept only while their value looks
 * like one (letters, digits and a little punctuation; no ^ = @ or apostrophes), emptied otherwise.
 * Explanations and labels that operators type freely (Window Center & Width Explanation, LUT
 * Explanation) are not on the safe list at all.
 */
export const TECHNICAL_TEXT_KEYWORDS: readonly string[] = [
  'Manufacturer', 'ManufacturerModelName', 'SoftwareVersions', 'SequenceName', 'ImagedNucleus', 'ReceiveCoilName',
  'TransmitCoilName', 'ConvolutionKernel', 'FilterType', 'ContrastBolusRoute', 'RescaleType', 'LUTLabel',
  'CodeValue', 'CodingSchemeDesignator', 'CodingSchemeVersion', 'LongCodeValue', 'MappingResourceName',
];

/** Groups of technical attributes: acquisition (0018), relationship/geometry (0020), image presentation
 * (0028), ophthalmology (0022, 0024), waveform (003A), whole-slide (0048), NM/PET (0054), segmentation
 * (0062), surfaces (0066), presentation states (0070), presentation LUT (2050), radiotherapy image, dose,
 * structures, plan and treatment record (3002-300C), functional groups (5200), pixel data (7FE0). */
export const TECHNICAL_GROUPS: ReadonlySet<number> = new Set([
  0x0018, 0x0020, 0x0022, 0x0024, 0x0028, 0x003a, 0x0048, 0x0054, 0x0062, 0x0066, 0x0070, 0x2050,
  0x3002, 0x3004, 0x3006, 0x3008, 0x300a, 0x300c, 0x5200, 0x7fe0,
]);

/** VRs that cannot hold a person's name, free text, a date or a time. */
export const NON_TEXT_VRS: ReadonlySet<string> = new Set([
  'AT', 'CS', 'DS', 'FD', 'FL', 'IS', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SL', 'SQ', 'SS', 'SV', 'UL', 'US', 'UV',
]);
