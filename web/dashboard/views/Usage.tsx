import { useState } from 'preact/hooks';
import type { UsageReport as UsageData } from '../../../client/trove-client';
import { Chart, type ChartPoint } from '../components/Chart';
import { ErrorBox, Spinner } from '../components/States';
import { useApp } from '../context';
import { formatBytes, formatCount, formatDay, formatPercent } from '../lib/format';
import { useDocumentTitle, useResource } from '../lib/hooks';

const WINDOWS = [7, 30, 90] as const;

export function Usage() {
  useDocumentTitle('Usage');
  const { api } = useApp();
  const [days, setDays] = useState<number>(30);
  const usage = useResource((signal) => api.trove.getUsage({ query: { days: String(days) } }, { signal }), [api, days]);

  return (
    <section aria-labelledby="usage-title">
      <div class="page-head">
        <div>
          <h1 id="usage-title">Usage</h1>
          <p class="subtle">Days are UTC.</p>
        </div>
        <div class="field field-inline">
          <label for="usage-days">Period</label>
          <select id="usage-days" value={String(days)} onChange={(event) => setDays(Number(event.currentTarget.value))} data-testid="usage-days">
            {WINDOWS.map((window) => (
              <option key={window} value={String(window)}>
                Last {window} days
              </option>
            ))}
          </select>
        </div>
      </div>
      {usage.loading && !usage.data ? (
        <Spinner label="Loading usage…" />
      ) : usage.error && !usage.data ? (
        <ErrorBox message={usage.error} onRetry={usage.reload} />
      ) : usage.data ? (
        <UsageReport usage={usage.data} days={days} />
      ) : null}
    </section>
  );
}

function UsageReport(props: { usage: UsageData; days: number }) {
  const { usage } = props;
  const uploads: ChartPoint[] = usage.days.map((day) => ({ label: formatDay(day.date), value: day.uploads }));
  const deliveries: ChartPoint[] = usage.days.map((day) => ({ label: formatDay(day.date), value: day.deliveries }));
  const ratios: ChartPoint[] = usage.days.map((day) => {
    const served = day.cache_hits + day.cache_misses;
    return { label: formatDay(day.date), value: served === 0 ? null : day.cache_hits / served };
  });
  const totalUploads = usage.days.reduce((sum, day) => sum + day.uploads, 0);
  const totalUploadBytes = usage.days.reduce((sum, day) => sum + day.upload_bytes, 0);
  const totalDeliveries = usage.days.reduce((sum, day) => sum + day.deliveries, 0);

  return (
    <>
      <div class="cards">
        <Card label="Stored files" value={formatCount(usage.files.stored)} testId="usage-stored" />
        <Card label="Temporary files" value={formatCount(usage.files.unstored)} testId="usage-temporary" />
        <Card label="Removed files" value={formatCount(usage.files.removed)} testId="usage-removed" />
        <Card label="Bytes stored" value={formatBytes(usage.bytes.stored)} detail={`${formatBytes(usage.bytes.unstored)} temporary`} testId="usage-bytes" />
        <Card label="Cache hit ratio" value={formatPercent(usage.cache_hit_ratio, 1)} detail={`last ${props.days} days`} testId="usage-hit-ratio" />
      </div>
      <div class="charts">
        <Chart
          title="Uploads per day"
          summary={`${formatCount(totalUploads)} uploads (${formatBytes(totalUploadBytes)}) in the last ${props.days} days${peak(uploads, formatCount)}.`}
          points={uploads}
          kind="bar"
          xLabel="Day"
          yLabel="Uploads"
          format={formatCount}
          integer
          testId="chart-uploads"
        />
        <Chart
          title="Deliveries per day"
          summary={`${formatCount(totalDeliveries)} files and transformations served in the last ${props.days} days${peak(deliveries, formatCount)}.`}
          points={deliveries}
          kind="bar"
          xLabel="Day"
          yLabel="Deliveries"
          format={formatCount}
          integer
          testId="chart-deliveries"
        />
        <Chart
          title="Cache hit ratio per day"
          summary={
            usage.cache_hit_ratio === null
              ? `No transformed images were served in the last ${props.days} days.`
              : `${formatPercent(usage.cache_hit_ratio, 1)} of transformed images came from a cache over the last ${props.days} days.`
          }
          points={ratios}
          kind="line"
          xLabel="Day"
          yLabel="Hit ratio"
          format={(value) => formatPercent(value)}
          yMax={1}
          testId="chart-cache"
        />
      </div>
    </>
  );
}

function peak(points: ChartPoint[], format: (value: number) => string): string {
  let best: ChartPoint | null = null;
  for (const point of points) if (point.value !== null && point.value > 0 && (best === null || point.value > (best.value ?? 0))) best = point;
  return best && best.value !== null ? `; the busiest day was ${best.label} with ${format(best.value)}` : '';
}

function Card(props: { label: string; value: string; detail?: string; testId: string }) {
  return (
    <div class="card-stat panel" data-testid={props.testId}>
      <span class="stat-label">{props.label}</span>
      <span class="stat-value" data-testid={`${props.testId}-value`}>
        {props.value}
      </span>
      {props.detail && <span class="subtle stat-detail">{props.detail}</span>}
    </div>
  );
}
