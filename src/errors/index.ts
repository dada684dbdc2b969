export {
  TwinlensError,
  InvalidImageError,
  InvalidArgumentError,
  ItemNotFoundError,
  ServiceUnavailableError,
  OverloadedError,
  RequestCancelledError,
  DeadlineExceededError,
  isTwinlensError,
} from './errors.js';
