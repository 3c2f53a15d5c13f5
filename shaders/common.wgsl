// Prepended to every kernel module (src/gpu/pipelines.ts). 1-D kernels launch ceil(count / WG)
// workgroups spread over x and y by grid2d() (src/kernels/op.ts); grid_x, the x it returned,
// comes in each kernel's uniforms.

override WG: u32 = 64u; // threads per 1-D workgroup; set from WORKGROUP_SIZE (src/gpu/pipelines.ts)

fn workgroup_index(wid: vec3u, grid_x: u32) -> u32 {
  return wid.y * grid_x + wid.x;
}

fn thread_index(wid: vec3u, lid: u32, grid_x: u32) -> u32 {
  return workgroup_index(wid, grid_x) * WG + lid;
}
