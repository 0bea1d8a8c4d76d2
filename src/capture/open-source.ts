import { DirectorySource } from './dir-source';
import type { FrameSource } from './source';
import { WebcamSource } from './webcam-source';

export interface SourceSettings {
  spec: string;
  loop: boolean;
  width: number;
  height: number;
}

/** Opens the source named by a spec: `dir:PATH` or `webcam:/dev/videoN`. */
export async function openSource(settings: SourceSettings): Promise<FrameSource> {
  const colon = settings.spec.indexOf(':');
  const kind = settings.spec.slice(0, colon);
  const target = settings.spec.slice(colon + 1);

  if (kind === 'webcam') {
    return WebcamSource.open({ device: target, width: settings.width, height: settings.height });
  }

  return DirectorySource.open(target, settings.loop);
}
