export { checkout } from './checkout';
export { admission } from './admission';
