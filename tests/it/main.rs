mod balancer;

fn main() {}
