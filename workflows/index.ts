export { checkout } from './checkout';
