export {
  type DecodedImage,
  type ImageDecoder,
  type SharpDecoderOptions,
  type AcceptedFormat,
  ACCEPTED_FORMATS,
  createSharpDecoder,
} from './decode-image.js';
