// `digestpin pins list|remove|migrate`: the pins in force and where they are kept; removing a
// pin from digestpin's store (kept in its history); moving pins from the policy into the store.
export { pinsCommand } from "./pins.ts";
