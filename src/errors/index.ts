export {
  TwinlensError,
  InvalidImageError,
  InvalidArgumentError,
  ItemNotFoundError,
  ServiceUnavailableError,
  isTwinlensError,
} from './errors.js';
