/**
 * Our P-DATA layer (dimse-pdata.ts, dimse-command.ts), pure: command sets as DCMTK writes them, PDUs
 * split at every byte boundary, fragmenting to the peer's maximum PDU, protocol violations.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { COMMAND, DimseCommandError, decodeCommand, encodeCommand } from '../../src/dicom/dimse-command';
import { DatasetFragmenter, MessageAssembler, PduError, PduReader, encodeMessage, fragmentSize, parsePDataTf, type DimseMessage } from '../../src/dicom/dimse-pdata';
import { identifierOf } from '../../src/dicom/dimse-association';

/** A C-STORE-RSP command set written element by element, as DCMTK encodes it (Implicit VR LE). */
function dcmtkStoreResponse(): Buffer {
  const el = (group: number, element: number, value: Buffer): Buffer => {
    const h = Buffer.alloc(8);
    h.writeUInt16LE(group, 0);
    h.writeUInt16LE(element, 2);
    h.writeUInt32LE(value.length, 4);
    return Buffer.concat([h, value]);
  };
  const us = (n: number): Buffer => Buffer.from([n & 0xff, n >> 8]);
  const body = Buffer.concat([
    el(0, 0x0002, Buffer.from('1.2.840.10008.5.1.4.1.1.2\0', 'latin1')),
    el(0, 0x0100, us(0x8001)),
    el(0, 0x0120, us(7)),
    el(0, 0x0800, us(0x0101)),
    el(0, 0x0900, us(0xa700)),
    el(0, 0x0902, Buffer.from('disk full ', 'latin1')),
    el(0, 0x1000, Buffer.from('1.2.3.4\0', 'latin1')),
    el(0, 0x1001, Buffer.from('9.9\0', 'latin1')), // an element we do not model: skipped
  ]);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length);
  return Buffer.concat([el(0, 0, length), body]);
}

describe('DIMSE command sets', () => {
  test('decodes what DCMTK writes; skips elements we do not model', () => {
    const c = decodeCommand(dcmtkStoreResponse());
    assert.equal(c.commandField, COMMAND.C_STORE_RSP);
    assert.equal(c.messageIdBeingRespondedTo, 7);
    assert.equal(c.status, 0xa700);
    assert.equal(c.errorComment, 'disk full');
    assert.equal(c.affectedSopClassUid, '1.2.840.10008.5.1.4.1.1.2');
    assert.equal(c.affectedSopInstanceUid, '1.2.3.4');
    assert.equal(c.hasDataset, false);
  });

  test('encode → decode round trip; group length, even lengths, tag order', () => {
    const cmd = { commandField: COMMAND.C_MOVE_RQ, messageId: 65535, affectedSopClassUid: '1.2.840.10008.5.1.4.1.2.2.2', moveDestination: 'PIPE', priority: 0, hasDataset: true };
    const bytes = encodeCommand(cmd);
    assert.equal(bytes.readUInt32LE(8), bytes.length - 12, 'Command Group Length counts what follows it');
    const tags: number[] = [];
    for (let pos = 0; pos < bytes.length; pos += 8 + bytes.readUInt32LE(pos + 4)) {
      tags.push(bytes.readUInt16LE(pos + 2));
      assert.equal(bytes.readUInt32LE(pos + 4) % 2, 0, 'even value length');
    }
    assert.deepEqual(tags, [...tags].sort((a, b) => a - b));
    assert.deepEqual(decodeCommand(bytes), cmd);
  });

  test('malformed command sets are refused', () => {
    const good = encodeCommand({ commandField: COMMAND.C_ECHO_RQ, messageId: 1, affectedSopClassUid: '1.2.840.10008.1.1', hasDataset: false });
    assert.throws(() => decodeCommand(good.subarray(0, good.length - 3)), DimseCommandError);
    const noDataSetType = encodeCommand({ commandField: COMMAND.C_ECHO_RQ, hasDataset: false }).subarray(0, 12 + 10); // group length + command field only
    assert.throws(() => decodeCommand(noDataSetType), /Command Data Set Type/);
  });
});

function messages(pdus: Buffer[]): DimseMessage[] {
  const assembler = new MessageAssembler();
  const out: DimseMessage[] = [];
  for (const pdu of pdus) for (const pdv of parsePDataTf(pdu)) {
    const m = assembler.push(pdv);
    if (m) out.push(m);
  }
  return out;
}

describe('P-DATA-TF framing', () => {
  const dataset = Buffer.from(Array.from({ length: 40_000 }, (_, i) => i % 251));
  const command = { commandField: COMMAND.C_STORE_RQ, messageId: 3, affectedSopClassUid: '1.2.3', affectedSopInstanceUid: '4.5.6', priority: 0, hasDataset: true };

  test('a dataset is cut to the peer maximum (PDU length field <= max) and reassembled byte for byte', () => {
    const wire = encodeMessage(5, command, dataset, 16384);
    const pdus: Buffer[] = [];
    new PduReader((p) => pdus.push(p)).push(Buffer.concat(wire));
    assert.equal(pdus.length, 1 + Math.ceil(dataset.length / (16384 - 6)));
    for (const p of pdus) assert.ok(p.readUInt32BE(2) <= 16384, 'within the peer maximum');
    const [m] = messages(pdus);
    assert.equal(m.pcId, 5);
    assert.deepEqual(m.command, command);
    assert.ok(Buffer.concat(m.dataset!).equals(dataset));
    assert.equal(m.datasetLength, dataset.length);
  });

  test('a dataset arriving in pieces (streamed from disk) is framed exactly as the same bytes in one buffer', () => {
    for (const pieceSizes of [[40_000], [1, 16377, 16378, 7244], [16378, 16378, 7244], [5000, 5000, 30_000], [39_999, 1]]) {
      const fragmenter = new DatasetFragmenter(5, fragmentSize(16384));
      const wire: Buffer[] = encodeMessage(5, command, undefined, 16384);
      let at = 0;
      for (const size of pieceSizes) {
        wire.push(...fragmenter.push(dataset.subarray(at, at + size)));
        at += size;
      }
      wire.push(...fragmenter.end());
      assert.ok(Buffer.concat(wire).equals(Buffer.concat(encodeMessage(5, command, dataset, 16384))), `pieces ${pieceSizes.join('+')}`);
    }
    const empty = new DatasetFragmenter(1, 100);
    assert.deepEqual(empty.push(Buffer.alloc(0)), []);
    const pdus: Buffer[] = [];
    new PduReader((p) => pdus.push(p)).push(Buffer.concat([...encodeMessage(1, command, undefined, 0), ...empty.end()]));
    const [last] = messages(pdus);
    assert.equal(last.datasetLength, 0, 'an empty dataset is one empty last fragment');
  });

  test('PDUs split at every possible read boundary come out whole and in order', () => {
    const wire = Buffer.concat([...encodeMessage(1, command, dataset.subarray(0, 300), 128), ...encodeMessage(1, { ...command, messageId: 4 }, dataset.subarray(0, 10), 0)]);
    for (const cut of [1, 2, 5, 6, 7, 11, 64, 129, 1000]) {
      const pdus: Buffer[] = [];
      const reader = new PduReader((p) => pdus.push(Buffer.from(p)));
      for (let at = 0; at < wire.length; at += cut) reader.push(wire.subarray(at, at + cut));
      const got = messages(pdus);
      assert.equal(got.length, 2, `reads of ${cut} bytes`);
      assert.ok(Buffer.concat(got[0].dataset!).equals(dataset.subarray(0, 300)));
      assert.equal(got[1].command.messageId, 4);
    }
  });

  test('a command-only message; several PDVs in one PDU', () => {
    const echo = { commandField: COMMAND.C_ECHO_RQ, messageId: 9, affectedSopClassUid: '1.2.840.10008.1.1', hasDataset: false };
    const [pdu] = encodeMessage(1, echo, undefined, 0);
    // Two PDVs in one P-DATA-TF: the same command twice.
    const pdv = pdu.subarray(6);
    const both = Buffer.concat([pdu.subarray(0, 6), pdv, pdv]);
    both.writeUInt32BE(pdv.length * 2, 2);
    const got = messages([both]);
    assert.equal(got.length, 2);
    assert.deepEqual(got[1].command, echo);
    assert.equal(got[1].dataset, undefined);
  });

  test('protocol violations are PduErrors', () => {
    assert.throws(() => new PduReader(() => undefined).push(Buffer.from([0x09, 0, 0, 0, 0, 0])), PduError);
    assert.throws(() => new PduReader(() => undefined, 1000).push(Buffer.from([0x04, 0, 0, 0, 0x10, 0])), /exceeds/);
    const [cmd, dataHeader, data] = encodeMessage(1, command, Buffer.alloc(10), 0);
    const asm = new MessageAssembler();
    assert.throws(() => asm.push(parsePDataTf(Buffer.concat([dataHeader, data]))[0]), /before its command/);
    const asm2 = new MessageAssembler();
    asm2.push(parsePDataTf(cmd)[0]);
    const other = Buffer.concat([dataHeader, data]);
    other[10] = 3;
    assert.throws(() => asm2.push(parsePDataTf(other)[0]), /presentation context 3/);
    assert.throws(() => asm2.push(parsePDataTf(cmd)[0]), /command fragment/);
    const bad = Buffer.from(cmd);
    bad.writeUInt32BE(1, 6); // PDV item length below 2
    assert.throws(() => parsePDataTf(bad), PduError);
  });
});

describe('response identifiers', () => {
  test('text as sent, numbers as decimal text, unknown tags by hex, sequences and UN empty', () => {
    const el = (tag: number, value: Buffer): Buffer => {
      const h = Buffer.alloc(8);
      h.writeUInt16LE(tag >>> 16, 0);
      h.writeUInt16LE(tag & 0xffff, 2);
      h.writeUInt32LE(value.length, 4);
      return Buffer.concat([h, value]);
    };
    const implicit = Buffer.concat([
      el(0x00080052, Buffer.from('IMAGE ')),
      el(0x00081198, Buffer.alloc(0)), // SQ, empty
      el(0x00100010, Buffer.from('DOE^JANE')),
      el(0x00191010, Buffer.from('xy')),
      el(0x00200013, Buffer.from('12')),
      el(0x00280010, Buffer.from([0x00, 0x02])), // Rows US 512
      el(0x0020000d, Buffer.from('1.2\0')),
    ].sort((a, b) => a.readUInt16LE(0) - b.readUInt16LE(0) || a.readUInt16LE(2) - b.readUInt16LE(2)));
    const id = identifierOf([implicit.subarray(0, 20), implicit.subarray(20)], '1.2.840.10008.1.2');
    assert.equal(id.QueryRetrieveLevel, 'IMAGE');
    assert.equal(id.PatientName, 'DOE^JANE');
    assert.equal(id.InstanceNumber, '12');
    assert.equal(id.Rows, '512');
    assert.equal(id.StudyInstanceUID, '1.2');
    assert.equal(id.ReferencedSOPSequence ?? id.FailedSOPSequence ?? '', '');
    assert.equal(id['00191010'], '', 'a private tag in Implicit VR is UN: keyed by hex, no text');
  });
});
