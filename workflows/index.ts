export { checkout } from './checkout';
export { admission } from './admission';
export { orderRefund } from './order-refund';
export { refund } from './refund';
