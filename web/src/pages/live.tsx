// Live: the last 15 minutes, a sample every 2 s from GET /api/v1/presence, drawn with uPlot
// (bundled, no CDN; it draws on a canvas and sets styles through the DOM, which the console's
// CSP allows). Rates are the change of each broker's counters between two samples; a counter
// that went down (the broker restarted) counts as 0 for that step.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { call, type BrokerPresence, type PresenceAnswer } from '../api';
import { Empty, ErrorText, Page, Table } from '../ui';

const EVERY_MS = 2000;
const KEEP = (15 * 60 * 1000) / EVERY_MS;
const COLORS = ['#1f6fb2', '#b23a1f', '#2e8540', '#8a5a00', '#5a2a86', '#00707a', '#555'];

interface Sample {
  t: number; // seconds
  brokers: Map<string, BrokerPresence>;
}

const sum = (c: Record<string, number> | undefined) =>
  Object.values(c ?? {}).reduce((a, b) => a + b, 0);
const step = (now: number, before: number | undefined, dt: number) =>
  before === undefined || now < before || dt <= 0 ? 0 : (now - before) / dt;

function Chart({
  title,
  labels,
  data,
}: {
  title: string;
  labels: string[];
  data: uPlot.AlignedData;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const key = labels.join('\n');
  useEffect(() => {
    if (!box.current) return;
    const opts: uPlot.Options = {
      width: Math.max(320, box.current.clientWidth || 640),
      height: 180,
      series: [
        {},
        ...labels.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length], width: 2 })),
      ],
      axes: [{}, { size: 60 }],
    };
    plot.current = new uPlot(opts, data, box.current);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [key]);
  useEffect(() => plot.current?.setData(data), [data]);
  return (
    <figure class="chart">
      <h3>{title}</h3>
      <div ref={box} aria-hidden="true" />
    </figure>
  );
}

export function LivePage() {
  const [samples, setSamples] = useState<Sample[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    const poll = () =>
      call<PresenceAnswer>('GET', '/presence').then(
        (p) => {
          if (!live) return;
          setError(null);
          const s = {
            t: Date.parse(p.at) / 1000,
            brokers: new Map(p.brokers.map((b) => [b.broker, b])),
          };
          setSamples((prev) => [...prev, s].slice(-KEEP));
        },
        (err) => live && setError(err),
      );
    void poll();
    const timer = setInterval(() => void poll(), EVERY_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, []);

  const last = samples[samples.length - 1];
  const names = [...new Set(samples.flatMap((s) => [...s.brokers.keys()]))].sort();
  const t = samples.map((s) => s.t);
  const rate = (pick: (b: BrokerPresence) => number) =>
    samples.map((s, i) => {
      const prev = samples[i - 1];
      let total = 0;
      for (const [name, b] of s.brokers) {
        const was = prev?.brokers.get(name);
        total += step(pick(b), was ? pick(was) : undefined, prev ? s.t - prev.t : 0);
      }
      return total;
    });
  const checks: uPlot.AlignedData = [
    t,
    rate((b) => sum(b.counters.allow)),
    rate((b) => sum(b.counters.deny)),
  ];
  const moves: uPlot.AlignedData = [t, rate((b) => b.connects), rate((b) => b.disconnects)];
  const online: uPlot.AlignedData = [
    t,
    ...names.map((n) => samples.map((s) => s.brokers.get(n)?.sessions ?? null)),
  ];

  return (
    <Page title="Live">
      <p class="help">
        The last 15 minutes, every 2 s, from the brokers' reports (presence needs the mqtt-authd
        plugin; go-auth brokers report none). Checks are the plugins' own decisions.
      </p>
      <ErrorText error={error} />
      {last && names.length === 0 ? (
        <Empty>No broker reports presence now. Presence needs the mqtt-authd plugin.</Empty>
      ) : null}
      {last && last.brokers.size > 0 ? (
        <Table label="Brokers now">
          <thead>
            <tr>
              <th scope="col">Broker</th>
              <th scope="col">Sessions</th>
              <th scope="col">Connects</th>
              <th scope="col">Disconnects</th>
              <th scope="col">Allowed</th>
              <th scope="col">Denied</th>
            </tr>
          </thead>
          <tbody>
            {[...last.brokers.values()].map((b) => (
              <tr key={b.broker}>
                <td>{b.broker}</td>
                <td>{b.sessions}</td>
                <td>{b.connects}</td>
                <td>{b.disconnects}</td>
                <td>{sum(b.counters.allow)}</td>
                <td>{sum(b.counters.deny)}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : null}
      {samples.length > 0 ? (
        <div class="charts">
          <Chart title="Checks per second, by result" labels={['allow', 'deny']} data={checks} />
          <Chart
            title="Connects and disconnects per second"
            labels={['connects', 'disconnects']}
            data={moves}
          />
          <Chart title="Online sessions, per broker" labels={names} data={online} />
        </div>
      ) : null}
    </Page>
  );
}
