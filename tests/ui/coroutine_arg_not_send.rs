use std::rc::Rc;

#[may::coroutine]
fn work(shared: Rc<u32>) -> u32 {
    *shared
}

fn main() {}
