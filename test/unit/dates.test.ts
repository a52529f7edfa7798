import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shiftDate, shiftDateTime } from '../../src/anon/dates';

test('DA values shift by whole days across months, years and leap days', () => {
  assert.equal(shiftDate('20200301', -1), '20200229');
  assert.equal(shiftDate('20210101', -1), '20201231');
  assert.equal(shiftDate('20200315', 30), '20200414');
  assert.equal(shiftDate('2020.03.15', -14), '20200301');
});

test('invalid dates are refused, not guessed', () => {
  assert.equal(shiftDate('20200230', -1), undefined);
  assert.equal(shiftDate('2020', -1), undefined);
  assert.equal(shiftDate('UNKNOWN', -1), undefined);
});

test('DT keeps time, fraction, UTC offset and precision', () => {
  assert.equal(shiftDateTime('20200315101500.123456+0100', -15), '20200229101500.123456+0100');
  assert.equal(shiftDateTime('202003', -31), '202001');
  assert.equal(shiftDateTime('2020', -400), '2018');
  assert.equal(shiftDateTime('20200315', 1), '20200316');
  assert.equal(shiftDateTime('2020031510', 1), '2020031610');
  assert.equal(shiftDateTime('garbage', 1), undefined);
});
