export {
  type DecodedImage,
  type ImageDecoder,
  type SharpDecoderOptions,
  type AcceptedFormat,
  ACCEPTED_FORMATS,
  MAX_IMAGE_SIDE,
  createSharpDecoder,
} from './decode-image.js';
export { type DecoderCrash, type ProcessDecoder, type ProcessDecoderOptions, createProcessDecoder } from './process-decoder.js';
