#[may::coroutine]
fn count(text: &str) -> usize {
    text.len()
}

fn main() {}
