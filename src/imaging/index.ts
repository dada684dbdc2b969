export {
  type DecodedImage,
  type ImageDecoder,
  type SharpDecoderOptions,
  type AcceptedFormat,
  ACCEPTED_FORMATS,
  MAX_IMAGE_SIDE,
  createSharpDecoder,
} from './decode-image.js';
