/**
 * The waiting room's proof of work has two sides in two runtimes: the server
 * checks a nonce with node:crypto, the buyer's browser searches for one with
 * WebCrypto. Both apply the rule in domain/proof-of-work.ts; these tests hold
 * them to it, so a change on one side cannot lock real buyers out of the line.
 */
import { createHash } from 'node:crypto';
import { leadingZeroBits, powInput } from '../../domain/proof-of-work';
import { ProofOfWork, solve } from '../../services/pow';
import { solveProofOfWork } from '../../web/page/proof-of-work';

const DIFFICULTY = 12;

test('leading zero bits are counted across byte boundaries', () => {
  expect(leadingZeroBits(Uint8Array.from([0x80, 0]))).toBe(0);
  expect(leadingZeroBits(Uint8Array.from([0x01, 0xff]))).toBe(7);
  expect(leadingZeroBits(Uint8Array.from([0, 0, 0x10, 0]))).toBe(19);
  expect(leadingZeroBits(Uint8Array.from([0, 0]))).toBe(16);
});

test('the server accepts the nonce a browser finds for its challenge', async () => {
  const pow = new ProofOfWork('test-secret');
  const challenge = pow.challenge('evt_pow', 'byr_pow', DIFFICULTY);
  const nonce = await solveProofOfWork(challenge, DIFFICULTY);
  expect(nonce).toBe(solve(challenge, DIFFICULTY));
  expect(pow.verify('evt_pow', 'byr_pow', challenge, nonce, DIFFICULTY)).toBe(true);
});

test('the server refuses a nonce that does not solve the challenge, or one solved for another buyer', async () => {
  const pow = new ProofOfWork('test-secret');
  const challenge = pow.challenge('evt_pow', 'byr_pow', DIFFICULTY);
  let wrong = 0;
  while (leadingZeroBits(createHash('sha256').update(powInput(challenge, wrong)).digest()) >= DIFFICULTY) wrong++;
  expect(pow.verify('evt_pow', 'byr_pow', challenge, String(wrong), DIFFICULTY)).toBe(false);
  const nonce = await solveProofOfWork(challenge, DIFFICULTY);
  expect(pow.verify('evt_pow', 'byr_other', challenge, nonce, DIFFICULTY)).toBe(false);
});
