// The shared body deadline (fake timers: no clock is read). A body is cut between 1 and 1.125 ×
// CHECK_BODY_TIMEOUT_MS after its headers, never when it completed first, and an idle sweep
// stops (no timer left behind).
import { BodyDeadlines } from '../../src/checks/body-deadlines';

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

it('cuts a body not complete within the timeout, not before, and never one that completed', () => {
  const d = new BodyDeadlines(2000);
  const cut: string[] = [];
  const slow = d.wait(() => cut.push('slow'));
  const quick = d.wait(() => cut.push('quick'));
  d.done(quick);
  jest.advanceTimersByTime(1999);
  expect(cut).toEqual([]);
  jest.advanceTimersByTime(2250 - 1999);
  expect(cut).toEqual(['slow']);
  d.done(slow); // after the cut: nothing more happens
  jest.advanceTimersByTime(10_000);
  expect(cut).toEqual(['slow']);
});

it('one arriving later is cut later; the sweep stops when nothing waits and restarts', () => {
  const d = new BodyDeadlines(400);
  const cut: number[] = [];
  d.wait(() => cut.push(1));
  jest.advanceTimersByTime(300);
  d.wait(() => cut.push(2));
  jest.advanceTimersByTime(150); // 450: the first's 9th sweep
  expect(cut).toEqual([1]);
  jest.advanceTimersByTime(300); // 750: the second's
  expect(cut).toEqual([1, 2]);
  jest.advanceTimersByTime(1000);
  expect(jest.getTimerCount()).toBe(0);
  d.wait(() => cut.push(3));
  expect(jest.getTimerCount()).toBe(1);
  jest.advanceTimersByTime(500);
  expect(cut).toEqual([1, 2, 3]);
});
