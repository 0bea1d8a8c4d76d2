import { DirectorySource } from '../capture/dir-source';
import type { FrameSource } from '../capture/source';
import { runFrameLoop, type LoopContext } from '../daemon/frame-loop';
import type { InferenceEngine } from '../infer/engine';
import type { LoadedModel } from '../infer/model-dir';
import type { DetectionMessage } from '../publish/messages';
import type { MqttPublisher } from '../publish/mqtt-publisher';
import { connectPublisher, startLoopbackBroker } from './loopback-broker';
import { CpuMeter, rssMb, type CpuShare } from './machine';
import { MeteredSource } from './metered-source';
import { rate, summarise, type Timing } from './sample-stats';

/**
 * The daemon's pipeline end to end: the real frame loop reads photos from a looping folder
 * source, decodes and resizes them, infers, decides and publishes every frame (threshold 0,
 * the most publishing the pipeline can be asked to do) at QoS 1 to an aedes broker of our
 * own on loopback. Frames per second is over wall time; latency is from the moment the
 * source read a frame to the moment its detection was handed to MQTT, and to its PUBACK.
 */

export interface PipelineOptions {
  photosDir: string;
  /** Frames measured after the warm-up. */
  frames: number;
  /** Frames run first and not measured: the first inferences allocate and compile. */
  warmupFrames: number;
  /** Frames between memory samples; the soak uses 1000. */
  sampleEvery: number;
}

export interface MemorySample {
  frames: number;
  rssMb: number;
}

export interface PipelineResult {
  frames: number;
  seconds: number;
  framesPerSecond: number;
  /** Capture (source read) to hand-over to MQTT, ms. */
  latencyMs: Timing;
  /** Capture to the broker's PUBACK, ms. */
  ackMs: Timing;
  /** engine.scores() alone, as the loop timed it, ms. */
  inferenceMs: Timing;
  /** One QoS 1 publish to PUBACK with nothing else running, ms. */
  publishAloneMs: Timing;
  rssMbStart: number;
  rssMbEnd: number;
  tensorsStart?: number;
  tensorsEnd?: number;
  memory: MemorySample[];
  cpu?: CpuShare;
}

/** Publishes timed alone after the pipeline: enough for a median of a sub-millisecond cost. */
const PUBLISH_ALONE_COUNT = 50;

/** What the loop's publish callback saw; acknowledgements arrive later. */
class PublishLog {
  readonly latencyMs: number[] = [];
  readonly ackMs: number[] = [];
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly publisher: MqttPublisher) {}

  publish(message: DetectionMessage): void {
    const capturedAt = Date.parse(message.captured_at);
    this.latencyMs.push(Date.now() - capturedAt);

    const sent: Promise<void> = this.publisher.publishDetection(message)
      .then(() => { this.ackMs.push(Date.now() - capturedAt); })
      .finally(() => this.pending.delete(sent));
    this.pending.add(sent);
  }

  /** Waits for the outstanding PUBACKs; a loopback broker answers in milliseconds. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}

function loopContext(
  source: FrameSource,
  engine: InferenceEngine,
  model: LoadedModel,
  log: PublishLog,
): LoopContext {
  const positiveLabel = model.labels.includes('pothole') ? 'pothole' : model.labels[0];

  return {
    source, engine, model, vehicleId: 'bench', threshold: 0, positiveLabel, fps: 0,
    publish: (message) => log.publish(message),
    stopRequested: () => false,
  };
}

/** Sequential QoS 1 publishes of a detection-sized payload, each awaited: MQTT's own cost. */
async function timePublishAlone(publisher: MqttPublisher, count: number): Promise<Timing> {
  const times: number[] = [];
  const payload = { id: 'bench', scores: { normal: 0.5, pothole: 0.5 }, padding: 'x'.repeat(300) };
  for (let i = 0; i < count; i++) {
    const startedAt = performance.now();
    await publisher.publishJson('edge-pothole/bench/publish-alone', payload, { qos: 1 });
    times.push(performance.now() - startedAt);
  }

  return summarise(times);
}

async function measureLoop(
  folder: DirectorySource,
  engine: InferenceEngine,
  model: LoadedModel,
  publisher: MqttPublisher,
  options: PipelineOptions,
): Promise<PipelineResult> {
  await runFrameLoop(loopContext(new MeteredSource(folder, options.warmupFrames), engine, model,
    new PublishLog(publisher)));

  const memory: MemorySample[] = [];
  const sample = (frames: number) => {
    if (frames % options.sampleEvery === 0) memory.push({ frames, rssMb: rssMb() });
  };
  const log = new PublishLog(publisher);
  const rssMbStart = rssMb();
  const tensorsStart = await engine.liveTensors?.();
  const meter = new CpuMeter();
  const startedAt = performance.now();
  const stats = await runFrameLoop(loopContext(new MeteredSource(folder, options.frames, sample),
    engine, model, log));
  const ms = performance.now() - startedAt;
  const cpu = meter.read();
  await log.drain();

  return {
    frames: stats.frames, seconds: ms / 1000, framesPerSecond: rate(stats.frames, ms),
    latencyMs: summarise(log.latencyMs), ackMs: summarise(log.ackMs),
    inferenceMs: summarise(stats.inferenceMs),
    publishAloneMs: await timePublishAlone(publisher, PUBLISH_ALONE_COUNT),
    rssMbStart, rssMbEnd: rssMb(), tensorsStart, tensorsEnd: await engine.liveTensors?.(),
    memory, cpu,
  };
}

/** Runs the pipeline bench; the broker and publisher exist only for its duration. */
export async function benchPipeline(
  engine: InferenceEngine,
  model: LoadedModel,
  options: PipelineOptions,
): Promise<PipelineResult> {
  const broker = await startLoopbackBroker();
  try {
    const publisher = await connectPublisher(broker.url, 'bench');
    try {
      const folder = await DirectorySource.open(options.photosDir, true);

      return await measureLoop(folder, engine, model, publisher, options);
    } finally {
      await publisher.stop();
    }
  } finally {
    await broker.close();
  }
}
