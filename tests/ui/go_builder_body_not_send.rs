use std::rc::Rc;

use may::coroutine::Builder;

fn main() {
    let shared = Rc::new(5);
    let _ = may::go!(Builder::new().name("rc"), move || *shared + 1);
}
