// Sliding-window inference moved to src/inferers/ (it serves 2-D and 3-D models alike); this
// module keeps the old import path working.
export { slidingWindowInference, type SlidingWindowOptions } from '../inferers/sliding-window.js';
