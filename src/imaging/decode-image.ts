import sharp from 'sharp';
import { InvalidImageError } from '../errors/index.js';
import { asBuffer } from './as-buffer.js';

/** Formats accepted from clients. SVG and others that can reference external files are not. */
export const ACCEPTED_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff'] as const;
export type AcceptedFormat = (typeof ACCEPTED_FORMATS)[number];

/**
 * Longest side accepted, in pixels: 65,535, the most JPEG and GIF can declare. PNG, TIFF and AVIF
 * headers may declare up to 2^31, and libvips buffers whole rows, so a 200-byte PNG declaring
 * 49,999,999 x 1 (under the pixel limit) made one decode take ~2 GB for seconds. Within the pixel
 * limit a longer side means a strip over 86:1, never a photo; the model squashes it to a square anyway.
 */
export const MAX_IMAGE_SIDE = 65_535;

/** An image ready for the model: `size` x `size` RGB, 8 bits, interleaved (HWC), on white. */
export interface DecodedImage {
  /** Interleaved RGB bytes, `size * size * 3` long. */
  rgb: Uint8Array;
  /** Side of the square the image was resized to, in pixels. */
  size: number;
  /** Width and height of the source image after EXIF orientation, in pixels. */
  sourceWidth: number;
  sourceHeight: number;
  format: AcceptedFormat;
}

/** Turns encoded bytes into model input. An interface so tests can swap the codec. */
export interface ImageDecoder {
  decode(bytes: Uint8Array): Promise<DecodedImage>;
  /** Releases what the decoder holds (child processes); absent when there is nothing to release. */
  close?(): Promise<void>;
}

/** Options of `createSharpDecoder`. */
export interface SharpDecoderOptions {
  /** Side of the square output, in pixels (the model's input size). */
  size: number;
  /** Largest encoded image accepted, in bytes. */
  maxImageBytes: number;
  /** Largest decoded image accepted, in pixels; sharp checks it from the header, before decoding. */
  maxImagePixels: number;
  /** Most frames an animated image may declare; only the first is decoded. Default 256. */
  maxImageFrames?: number;
}

/** Throws InvalidImageError for an empty image or one over `maxImageBytes` (checked before any decoding). */
export function checkEncodedSize(bytes: Uint8Array, maxImageBytes: number): void {
  if (!bytes || bytes.length === 0) throw new InvalidImageError('image is empty (0 bytes)');
  if (bytes.length > maxImageBytes) {
    throw new InvalidImageError(`image is ${bytes.length} bytes, over the limit of ${maxImageBytes} bytes`);
  }
}

function formatOf(meta: sharp.Metadata): AcceptedFormat | undefined {
  // sharp reports AVIF as the HEIF container; only its AV1 flavour is AVIF.
  if (meta.format === 'heif') return meta.compression === 'av1' ? 'avif' : undefined;
  return (ACCEPTED_FORMATS as readonly string[]).includes(meta.format ?? '') ? (meta.format as AcceptedFormat) : undefined;
}

/**
 * The production decoder: sharp (libvips). Applies EXIF orientation, flattens alpha onto white
 * (catalog images are on white, so a transparent PNG must look like one), takes the first frame of
 * an animation, and squashes the image to `size` x `size` (the pretrained baseline was measured so).
 */
export function createSharpDecoder(options: SharpDecoderOptions): ImageDecoder {
  const { size, maxImageBytes, maxImagePixels, maxImageFrames = 256 } = options;
  return {
    async decode(bytes: Uint8Array): Promise<DecodedImage> {
      checkEncodedSize(bytes, maxImageBytes);
      const input = asBuffer(bytes);
      // failOn 'warning' (the strictest): a truncated JPEG, or one whose header claims more pixels
      // than its data holds, is refused instead of being padded with grey and embedded.
      const sharpOptions: sharp.SharpOptions = { limitInputPixels: maxImagePixels, failOn: 'warning', pages: 1 };
      let meta: sharp.Metadata;
      try {
        meta = await sharp(input, sharpOptions).metadata();
      } catch (e) {
        throw new InvalidImageError(`image could not be read: ${messageOf(e)}`, { cause: e });
      }
      const format = formatOf(meta);
      if (!format) {
        throw new InvalidImageError(
          `image format '${meta.format ?? 'unknown'}' is not accepted; send one of ${ACCEPTED_FORMATS.join(', ')}`,
        );
      }
      if ((meta.pages ?? 1) > maxImageFrames) {
        throw new InvalidImageError(`image has ${meta.pages} frames, over the limit of ${maxImageFrames}`);
      }
      const width = meta.width ?? 0;
      const height = meta.pageHeight ?? meta.height ?? 0;
      if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) {
        throw new InvalidImageError(`image is ${width}x${height} pixels, a side over the limit of ${MAX_IMAGE_SIDE} pixels`);
      }
      if (width * height > maxImagePixels) {
        throw new InvalidImageError(`image is ${width}x${height} pixels, over the limit of ${maxImagePixels} pixels`);
      }
      try {
        const { data, info } = await sharp(input, sharpOptions)
          .rotate() // no angle: apply the EXIF orientation
          .flatten({ background: '#ffffff' })
          .toColourspace('srgb')
          .resize(size, size, { fit: 'fill' })
          .removeAlpha()
          .raw()
          .toBuffer({ resolveWithObject: true });
        if (info.channels !== 3 || data.length !== size * size * 3) {
          throw new Error(`unexpected decoded layout ${info.width}x${info.height}x${info.channels}`);
        }
        const swap = (meta.orientation ?? 1) >= 5; // orientations 5-8 swap width and height
        return {
          rgb: new Uint8Array(data.buffer, data.byteOffset, data.length),
          size,
          sourceWidth: swap ? height : width,
          sourceHeight: swap ? width : height,
          format,
        };
      } catch (e) {
        throw new InvalidImageError(`image could not be decoded: ${messageOf(e)}`, { cause: e });
      }
    },
  };
}

function messageOf(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0].trim();
}
