import { useId, useRef } from 'preact/hooks';
import { useElementWidth } from '../lib/virtual';

export interface ChartPoint {
  label: string;
  /** null: no value for this point (a gap in a line). */
  value: number | null;
}

interface ChartProps {
  title: string;
  /** One sentence a screen reader hears instead of the picture. */
  summary: string;
  points: ChartPoint[];
  kind: 'bar' | 'line';
  xLabel: string;
  yLabel: string;
  format: (value: number) => string;
  /** Fixed top of the y axis (1 for ratios); otherwise a round number above the largest value. */
  yMax?: number;
  /** Whole-number values (counts). */
  integer?: boolean;
  testId?: string;
}

/** Used until the figure has been measured. */
const DEFAULT_WIDTH = 640;
const HEIGHT = 240;
const MARGIN = { top: 14, right: 14, bottom: 44, left: 58 };

/** A round axis top with 4 even steps: 0, 2.5, 5… becomes 0, 5, 10… */
function niceScale(max: number, integer: boolean, steps = 4): { top: number; step: number } {
  if (!(max > 0)) return { top: steps, step: 1 };
  const rough = max / steps;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  let step = [1, 2, 2.5, 5, 10].map((factor) => factor * magnitude).find((candidate) => candidate >= rough) ?? 10 * magnitude;
  // Counts have no half steps: 0, 0.25, 0.5 uploads reads as nonsense.
  if (integer) step = Math.max(1, Math.ceil(step));
  return { top: step * steps, step };
}

/** A small dependency-free SVG chart with a title, axis labels, a text summary and a data table. */
export function Chart(props: ChartProps) {
  const id = useId();
  const box = useRef<HTMLDivElement>(null);
  // Drawn at the size it is shown, so labels keep their font size on any screen.
  const measured = useElementWidth(box);
  const WIDTH = measured > 0 ? Math.max(280, measured) : DEFAULT_WIDTH;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const values = props.points.map((point) => point.value).filter((value): value is number => value !== null);
  const scale = props.yMax !== undefined ? { top: props.yMax, step: props.yMax / 4 } : niceScale(Math.max(0, ...values), props.integer ?? false);
  const count = Math.max(1, props.points.length);
  const slot = plotWidth / count;
  const x = (index: number) => MARGIN.left + slot * index + slot / 2;
  const y = (value: number) => MARGIN.top + plotHeight - (Math.min(value, scale.top) / scale.top) * plotHeight;
  const ticks = Array.from({ length: 5 }, (_, i) => scale.step * i);
  // About six date labels, whatever the window.
  const labelEvery = Math.max(1, Math.ceil(count / Math.max(2, Math.floor(plotWidth / 90))));

  const lines: string[] = [];
  if (props.kind === 'line') {
    let current: string[] = [];
    props.points.forEach((point, index) => {
      if (point.value === null) {
        if (current.length) lines.push(current.join(' '));
        current = [];
      } else {
        current.push(`${x(index).toFixed(1)},${y(point.value).toFixed(1)}`);
      }
    });
    if (current.length) lines.push(current.join(' '));
  }

  return (
    <figure class="chart panel" data-testid={props.testId} aria-labelledby={`${id}-title`}>
      <figcaption>
        <h2 id={`${id}-title`} class="chart-title">
          {props.title}
        </h2>
        <p id={`${id}-summary`} class="subtle chart-summary" data-testid={props.testId ? `${props.testId}-summary` : undefined}>
          {props.summary}
        </p>
      </figcaption>
      <div ref={box} class="chart-box">
      <svg class="chart-svg" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby={`${id}-title ${id}-summary`} preserveAspectRatio="xMidYMid meet">
        {ticks.map((tick) => (
          <g key={tick} class="chart-grid">
            <line x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={y(tick)} y2={y(tick)} />
            <text x={MARGIN.left - 8} y={y(tick)} text-anchor="end" dominant-baseline="middle" class="chart-tick">
              {props.format(tick)}
            </text>
          </g>
        ))}
        {props.kind === 'bar' &&
          props.points.map((point, index) =>
            point.value === null || point.value <= 0 ? null : (
              <rect key={point.label} class="chart-bar" x={x(index) - (slot * 0.7) / 2} width={slot * 0.7} y={y(point.value)} height={Math.max(1, MARGIN.top + plotHeight - y(point.value))} rx={2}>
                <title>{`${point.label}: ${props.format(point.value)}`}</title>
              </rect>
            ),
          )}
        {props.kind === 'line' && (
          <>
            {lines.map((line) => (
              <polyline key={line} class="chart-line" points={line} />
            ))}
            {props.points.map((point, index) =>
              point.value === null ? null : (
                <circle key={point.label} class="chart-dot" cx={x(index)} cy={y(point.value)} r={3}>
                  <title>{`${point.label}: ${props.format(point.value)}`}</title>
                </circle>
              ),
            )}
          </>
        )}
        <line class="chart-axis" x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={MARGIN.top + plotHeight} y2={MARGIN.top + plotHeight} />
        {props.points.map((point, index) =>
          index % labelEvery === 0 || index === count - 1 ? (
            <text key={point.label} x={x(index)} y={MARGIN.top + plotHeight + 16} text-anchor="middle" class="chart-tick">
              {point.label}
            </text>
          ) : null,
        )}
        <text class="chart-axis-label" x={MARGIN.left + plotWidth / 2} y={HEIGHT - 4} text-anchor="middle">
          {props.xLabel}
        </text>
        <text class="chart-axis-label" transform={`translate(14 ${MARGIN.top + plotHeight / 2}) rotate(-90)`} text-anchor="middle">
          {props.yLabel}
        </text>
      </svg>
      </div>
      <details class="chart-data">
        <summary>Data table</summary>
        <div class="table-scroll">
          <table class="data-table">
            <thead>
              <tr>
                <th scope="col">{props.xLabel}</th>
                <th scope="col">{props.yLabel}</th>
              </tr>
            </thead>
            <tbody>
              {props.points.map((point) => (
                <tr key={point.label}>
                  <th scope="row">{point.label}</th>
                  <td>{point.value === null ? '—' : props.format(point.value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
