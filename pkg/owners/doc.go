// Package owners computes the owner references of the objects Serin creates
// for a Canary (the primary Deployment, its autoscaler, the -primary config
// copies, the apex, -primary and -canary Services and the HTTPRoute).
//
// Each of them has two owners from its creation on: the Canary, as its
// controller, and the Canary's target Deployment, as a plain owner. The
// garbage collector deletes an object only once all its owners are gone, so
// deleting the Canary alone leaves them serving, owned by the target, and
// deleting the target too removes them. The functions here are pure; the
// canary and router packages apply them to what they read and write only
// when the result differs.
package owners
