export { checkout } from './checkout';
export { admission } from './admission';
export { refund } from './refund';
