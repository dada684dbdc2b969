export {
  TwinlensError,
  InvalidImageError,
  InvalidArgumentError,
  ItemNotFoundError,
  NotFoundError,
  FailedPreconditionError,
  ServiceUnavailableError,
  OverloadedError,
  RequestCancelledError,
  DeadlineExceededError,
  isTwinlensError,
} from './errors.js';
