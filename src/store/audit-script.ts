// The audit entry a change script appends in the same atomic step as the change, to the audit
// stream of the change's own slot (`audit:{NN}` per bucket, `audit:{common}`). Entry ids are
// made unique across all streams so that a merged, newest-first page can be continued from
// any id: `<ms>-<k*128 + stream>`, k counting the entries of that stream in that millisecond.
import { AUDIT_STREAMS } from '../domain/audit-cursor';

export const AUDIT_ARGS = 7;

/** Stream numbers in entry ids: buckets are 0 … 63. */
export const COMMON_STREAM = 64;
/** The single stream of earlier versions, still written by lockouts (not device changes). */
export const MISC_STREAM = 65;
export const STREAM_SPACING = 128;

/**
 * What the script puts in `before`, from the old record (never the hash):
 * '' → null; 'existing' → "existing" when there was a record; '*' → every stored field;
 * 'a,b' → those fields; '=<JSON>' → that JSON. Fields are stored as Redis has them and decoded on read.
 */
export type BeforeSpec = '' | 'existing' | '*' | string;

export interface AuditNote {
  actor: string;
  action: string;
  target: string;
  after: unknown;
  before: BeforeSpec;
}

/**
 * AUDIT_MAX_ENTRIES is the bound of the whole trail: each of its 66 streams keeps exactly its
 * newest ⌊total / 66⌋ (at least 1). A bound per stream, or `MAXLEN ~`, let the trail hold up to
 * 66 × 1.5 times the setting.
 */
export const perStreamCap = (total: number): number =>
  Math.max(1, Math.floor(total / AUDIT_STREAMS));

/** ARGV[1..7] of a change script; `cap` (the trail's total) 0 writes no entry (migrations). */
export function auditArgs(note: AuditNote | null, cap: number, stream: number): string[] {
  if (!note || cap <= 0) return ['0', String(stream), '', '', '', 'null', ''];
  return [
    String(perStreamCap(cap)),
    String(stream),
    note.actor,
    note.action,
    note.target,
    JSON.stringify(note.after ?? null),
    note.before,
  ];
}

/** audit(stream key, old HGETALL as a flat list, whether there was a record). */
export const AUDIT_LUA = `
local function audit(stream, old, exists)
  if ARGV[1] == '0' then return end
  local spec = ARGV[7]
  local fields = {'actor', ARGV[3], 'action', ARGV[4], 'target', ARGV[5], 'after', ARGV[6]}
  if spec == '' or spec == 'existing' or string.sub(spec, 1, 1) == '=' then
    local before = 'null'
    if spec == 'existing' and exists then before = '"existing"' end
    if string.sub(spec, 1, 1) == '=' then before = string.sub(spec, 2) end
    table.insert(fields, 'before') table.insert(fields, before)
  else
    local want = nil
    if spec ~= '*' then
      want = {}
      for f in string.gmatch(spec, '[^,]+') do want[f] = true end
    end
    local raw = {}
    local any = false
    for i = 1, #old, 2 do
      if old[i] ~= 'hash' and (want == nil or want[old[i]]) then raw[old[i]] = old[i + 1] any = true end
    end
    local text = '{}'
    if any then text = cjson.encode(raw) end
    table.insert(fields, 'beforeFields') table.insert(fields, text)
  end
  local t = redis.call('TIME')
  local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local k = 0
  local top = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
  if #top > 0 then
    local lms, lseq = string.match(top[1][1], '^(%d+)-(%d+)$')
    if tonumber(lms) >= ms then
      ms = tonumber(lms)
      k = math.floor(tonumber(lseq) / ${STREAM_SPACING}) + 1
    end
  end
  local id = string.format('%d-%d', ms, k * ${STREAM_SPACING} + tonumber(ARGV[2]))
  redis.call('XADD', stream, 'MAXLEN', ARGV[1], id, unpack(fields))
end
`;

/** An entry outside any device's slot (lockouts): the same id scheme, on its own. */
export const APPEND_AUDIT = `${AUDIT_LUA}
audit(KEYS[1], {}, false)
return {'OK'}
`;
