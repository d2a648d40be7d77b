export { checkout } from './checkout';
export { admission } from './admission';
export { orderRefund } from './order-refund';
