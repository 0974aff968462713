// `digestpin pin` and `digestpin approve`: resolve tags and record pins with who, when and why;
// accept a moved tag's new digest, keeping the old one in the pin's history.
export { pinCommand } from "./pin.ts";
export { approveCommand } from "./approve.ts";
