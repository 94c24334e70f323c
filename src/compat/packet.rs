//! The classic libami packet: a linked list of fixed-size `Name: value`
//! items, allocated with the C allocator (old programs `free()` them).

use std::ffi::{c_char, c_void};
use std::mem::{offset_of, size_of};
use std::ptr::null_mut;

use crate::ffi::guard;
use crate::Message;

/// Size of an item's name buffer, NUL included.
pub const MAX_AST_PACKET_ITEM_NAME_SIZE: usize = 128;
/// Size of an item's value buffer, NUL included: longer values are cut at
/// 255 bytes. The modern API (`ami.h`) gives whole values.
pub const MAX_AST_PACKET_ITEM_VALUE_SIZE: usize = 256;
/// Network timeout of the classic API, in milliseconds.
pub const AMI_NET_TIMEOUT: i32 = 500;

/// One `Name: value` item of a packet.
#[repr(C)]
pub struct _ast_packet_item {
    /// NUL-terminated name.
    pub name: [c_char; MAX_AST_PACKET_ITEM_NAME_SIZE],
    /// NUL-terminated value (cut at 255 bytes).
    pub value: [c_char; MAX_AST_PACKET_ITEM_VALUE_SIZE],
    /// The next item, or NULL.
    pub next: *mut _ast_packet_item,
}

/// One `Name: value` item of a packet.
pub type ast_packet_item = _ast_packet_item;

/// A packet: ordered items, and the next packet of a group (list responses).
#[repr(C)]
pub struct _ast_packet {
    /// The first item, or NULL.
    pub first_item: *mut ast_packet_item,
    /// The next packet of the group, or NULL.
    pub next: *mut _ast_packet,
}

/// A packet: ordered items, and the next packet of a group (list responses).
pub type ast_packet = _ast_packet;

/// The process-wide event callback. The packet is the library's: it is
/// destroyed when the callback returns (`ami_duplicate_packet` to keep it).
pub type ami_event_cb_func = Option<unsafe extern "C" fn(packet: *mut ast_packet, cb_data: *mut c_void)>;

// The layout is ABI: old binaries were compiled against it (x86-64, aarch64).
const _: () = {
    assert!(size_of::<ast_packet_item>() == 392);
    assert!(offset_of!(ast_packet_item, value) == 128);
    assert!(offset_of!(ast_packet_item, next) == 384);
    assert!(size_of::<ast_packet>() == 16);
    assert!(offset_of!(ast_packet, next) == 8);
};

/// The marker the classic library puts before ActionIDs it sends.
pub(crate) const ACTION_ID_PREFIX: &[u8] = b"ami_";

/// A NUL-terminated C string as bytes; None for NULL.
pub(crate) fn c_bytes<'a>(p: *const c_char) -> Option<&'a [u8]> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL, and the caller passes a NUL-terminated string.
    Some(unsafe { std::ffi::CStr::from_ptr(p) }.to_bytes())
}

fn fill(dst: &mut [c_char], src: &[u8]) {
    let n = src.len().min(dst.len() - 1);
    for (d, s) in dst.iter_mut().zip(&src[..n]) {
        *d = *s as c_char;
    }
    dst[n] = 0;
}

fn field(buf: &[c_char]) -> &[u8] {
    let len = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
    // SAFETY: c_char and u8 have the same size and alignment; len is in bounds.
    unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), len) }
}

/// A new item (C allocator), name and value cut to fit. NULL if out of memory.
pub(crate) fn new_item(name: &[u8], value: &[u8]) -> *mut ast_packet_item {
    // SAFETY: calloc returns NULL or zeroed memory fit for one item.
    let item = unsafe { libc::calloc(1, size_of::<ast_packet_item>()) }.cast::<ast_packet_item>();
    // SAFETY: NULL or a fresh, zeroed, exclusively owned item.
    if let Some(i) = unsafe { item.as_mut() } {
        fill(&mut i.name, name);
        fill(&mut i.value, value);
    }
    item
}

/// A new empty packet (C allocator). NULL if out of memory.
pub(crate) fn new_packet() -> *mut ast_packet {
    // SAFETY: calloc returns NULL or zeroed memory: an empty packet.
    unsafe { libc::calloc(1, size_of::<ast_packet>()) }.cast()
}

/// Iterates a chain of items from `first`.
fn items(first: *mut ast_packet_item) -> impl Iterator<Item = *mut ast_packet_item> {
    std::iter::successors((!first.is_null()).then_some(first), |&i| {
        // SAFETY: `i` is a live item of a well-formed chain (the caller's contract).
        let next = unsafe { (*i).next };
        (!next.is_null()).then_some(next)
    })
}

/// The packet behind a pointer the caller handed us.
fn packet<'a>(p: *mut ast_packet) -> Option<&'a mut ast_packet> {
    // SAFETY: NULL or a live packet owned by the caller, not shared meanwhile.
    unsafe { p.as_mut() }
}

fn append(p: &mut ast_packet, item: *mut ast_packet_item) {
    match items(p.first_item).last() {
        // SAFETY: `last` is the live tail of p's chain.
        Some(last) => unsafe { (*last).next = item },
        None => p.first_item = item,
    }
}

/// Appends a header to a packet being built, creating the packet when NULL.
pub(crate) fn push(p: *mut ast_packet, name: &[u8], value: &[u8]) -> *mut ast_packet {
    let p = if p.is_null() { new_packet() } else { p };
    if let Some(pk) = packet(p) {
        let item = new_item(name, value);
        if !item.is_null() {
            append(pk, item);
        }
    }
    p
}

/// The packet of a message from the server. The classic library's
/// `ami_` ActionID marker is hidden again (an empty ActionID is dropped).
pub(crate) fn from_message(m: &Message, into: *mut ast_packet) -> *mut ast_packet {
    let mut p = into;
    for i in 0..m.len() {
        let (Some(name), Some(value)) = (m.name_bytes_at(i), m.value_bytes_at(i)) else { continue };
        if name.eq_ignore_ascii_case(b"ActionID") {
            match visible_action_id(value) {
                Some(v) => p = push(p, name, v),
                None => continue,
            }
        } else {
            p = push(p, name, value);
        }
    }
    if p.is_null() { new_packet() } else { p }
}

/// What a program sees of an ActionID: the `ami_` marker removed; None
/// when nothing of the program's is left (`ami_` alone, or `ami_~<ours>`).
pub(crate) fn visible_action_id(value: &[u8]) -> Option<&[u8]> {
    match value.strip_prefix(ACTION_ID_PREFIX) {
        None => Some(value),
        Some(rest) if rest.is_empty() || rest.starts_with(b"~") => None,
        Some(rest) => Some(rest),
    }
}

/// The `(name, value)` pairs of a packet the program built.
pub(crate) fn items_of(p: *mut ast_packet) -> Vec<(Vec<u8>, Vec<u8>)> {
    packet(p).map_or_else(Vec::new, |pk| {
        items(pk.first_item)
            .map(|i| {
                // SAFETY: `i` is a live item of the program's packet.
                let item = unsafe { &*i };
                (field(&item.name).to_vec(), field(&item.value).to_vec())
            })
            .collect()
    })
}

fn free_item(i: *mut ast_packet_item) {
    // SAFETY: `i` came from the C allocator and is freed once.
    unsafe { libc::free(i.cast()) }
}

fn free_packet(p: *mut ast_packet) {
    if let Some(pk) = packet(p) {
        let chain: Vec<_> = items(pk.first_item).collect();
        for i in chain {
            free_item(i);
        }
        // SAFETY: `p` came from the C allocator and is freed once.
        unsafe { libc::free(p.cast()) }
    }
}

fn same_name(item: *mut ast_packet_item, key: &[u8]) -> bool {
    // SAFETY: `item` is a live item of the caller's packet.
    let name = field(unsafe { &(*item).name });
    !name.is_empty() && name.eq_ignore_ascii_case(key)
}

fn find(p: *mut ast_packet, key: *const c_char) -> *mut ast_packet_item {
    match (packet(p), c_bytes(key).filter(|k| !k.is_empty())) {
        (Some(pk), Some(key)) => items(pk.first_item).find(|&i| same_name(i, key)).unwrap_or(null_mut()),
        _ => null_mut(),
    }
}

fn unlink(p: *mut ast_packet, pi: *mut ast_packet_item) -> bool {
    let Some(pk) = packet(p) else { return false };
    if pi.is_null() {
        return false;
    }
    if pk.first_item == pi {
        // SAFETY: `pi` is the live head of p's chain.
        unsafe {
            pk.first_item = (*pi).next;
            (*pi).next = null_mut();
        }
        return true;
    }
    for i in items(pk.first_item) {
        // SAFETY: `i` and, when equal to `pi`, its successor are live items of p.
        unsafe {
            if (*i).next == pi {
                (*i).next = (*pi).next;
                (*pi).next = null_mut();
                return true;
            }
        }
    }
    false
}

/// A new, empty packet; free it with `ami_destroy_packet`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_create_packet() -> *mut ast_packet {
    guard(null_mut(), new_packet)
}

/// A new item; `name` (non-empty) and `val` (NULL: empty) are cut to fit
/// 127 and 255 bytes. NULL for a NULL or empty name.
#[unsafe(no_mangle)]
pub extern "C" fn ami_create_packet_item(name: *const c_char, val: *const c_char) -> *mut ast_packet_item {
    guard(null_mut(), || match c_bytes(name).filter(|n| !n.is_empty()) {
        Some(n) => new_item(n, c_bytes(val).unwrap_or_default()),
        None => null_mut(),
    })
}

/// Appends item `pi` after the last item of the chain starting at `p`;
/// returns `pi` (NULL if either is NULL).
#[unsafe(no_mangle)]
pub extern "C" fn ami_add_packet_item(p: *mut ast_packet_item, pi: *mut ast_packet_item) -> *mut ast_packet_item {
    guard(null_mut(), || {
        if p.is_null() || pi.is_null() {
            return null_mut();
        }
        if let Some(last) = items(p).last() {
            // SAFETY: `last` is the live tail of the caller's chain.
            unsafe { (*last).next = pi };
        }
        pi
    })
}

/// Appends item `pi` to packet `p`; returns `p` (NULL if either is NULL).
#[unsafe(no_mangle)]
pub extern "C" fn ami_add_packet_item_to_packet(p: *mut ast_packet, pi: *mut ast_packet_item) -> *mut ast_packet {
    guard(null_mut(), || match packet(p) {
        Some(pk) if !pi.is_null() => {
            append(pk, pi);
            p
        }
        _ => null_mut(),
    })
}

/// Appends a new `key: val` item to `p`, creating the packet when `p` is
/// NULL; returns the packet (NULL for a NULL or empty key).
#[unsafe(no_mangle)]
pub extern "C" fn ami_add_new_packet_item(p: *mut ast_packet, key: *const c_char, val: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || match c_bytes(key).filter(|k| !k.is_empty()) {
        Some(k) => push(p, k, c_bytes(val).unwrap_or_default()),
        None => null_mut(),
    })
}

/// Appends packet `p` at the end of `group`; returns `group` (NULL if either is NULL).
#[unsafe(no_mangle)]
pub extern "C" fn ami_add_packet(group: *mut ast_packet, p: *mut ast_packet) -> *mut ast_packet {
    guard(null_mut(), || {
        if group.is_null() || p.is_null() {
            return null_mut();
        }
        let mut last = group;
        // SAFETY: `last` walks the live packets of the caller's group.
        unsafe {
            while !(*last).next.is_null() {
                last = (*last).next;
            }
            (*last).next = p;
        }
        group
    })
}

/// Frees one packet and its items (not the rest of its group). NULL is a no-op.
#[unsafe(no_mangle)]
pub extern "C" fn ami_destroy_packet(p: *mut ast_packet) {
    guard((), || free_packet(p))
}

/// Frees a whole group of packets. NULL is a no-op.
#[unsafe(no_mangle)]
pub extern "C" fn ami_destroy_packet_group(first: *mut ast_packet) {
    guard((), || {
        let mut p = first;
        while let Some(pk) = packet(p) {
            let next = pk.next;
            free_packet(p);
            p = next;
        }
    })
}

/// Unlinks item `pi` from `p` and frees it.
#[unsafe(no_mangle)]
pub extern "C" fn ami_destroy_packet_item(p: *mut ast_packet, pi: *mut ast_packet_item) {
    guard((), || {
        if unlink(p, pi) {
            free_item(pi);
        }
    })
}

/// Removes and frees the first item called `name` (case-insensitive).
#[unsafe(no_mangle)]
pub extern "C" fn ami_destroy_packet_item_byname(p: *mut ast_packet, name: *const c_char) {
    guard((), || {
        let item = find(p, name);
        if unlink(p, item) {
            free_item(item);
        }
    })
}

/// Unlinks item `pi` from `p` without freeing it.
#[unsafe(no_mangle)]
pub extern "C" fn ami_unlink_packet_item(p: *mut ast_packet, pi: *mut ast_packet_item) {
    guard((), || {
        unlink(p, pi);
    })
}

/// Moves every item of `p2` to the end of `p1`, then frees `p2`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_merge_packets(p1: *mut ast_packet, p2: *mut ast_packet) {
    guard((), || {
        let (Some(a), Some(b)) = (packet(p1), packet(p2)) else { return };
        if p1 == p2 {
            return;
        }
        append(a, b.first_item);
        b.first_item = null_mut();
        free_packet(p2);
    })
}

/// A deep copy of the whole group starting at `p`; NULL for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn ami_duplicate_packet(p: *mut ast_packet) -> *mut ast_packet {
    guard(null_mut(), || {
        let mut first: *mut ast_packet = null_mut();
        let mut tail: *mut ast_packet = null_mut();
        let mut src = p;
        while let Some(s) = packet(src) {
            let mut copy = new_packet();
            for i in items(s.first_item) {
                // SAFETY: `i` is a live item of the source packet.
                let item = unsafe { &*i };
                copy = push(copy, field(&item.name), field(&item.value));
            }
            match packet(tail) {
                Some(t) => t.next = copy,
                None => first = copy,
            }
            tail = copy;
            src = s.next;
        }
        first
    })
}

/// The value of the first item called `key` (case-insensitive), pointing
/// into the packet; NULL if absent.
#[unsafe(no_mangle)]
pub extern "C" fn ami_get_packet_item_value(p: *mut ast_packet, key: *const c_char) -> *mut c_char {
    guard(null_mut(), || {
        let item = find(p, key);
        // SAFETY: NULL or a live item of the caller's packet.
        unsafe { item.as_mut() }.map_or(null_mut(), |i| i.value.as_mut_ptr())
    })
}

/// The first item called `key` (case-insensitive), or NULL.
#[unsafe(no_mangle)]
pub extern "C" fn ami_get_packet_item(p: *mut ast_packet, key: *const c_char) -> *mut ast_packet_item {
    guard(null_mut(), || find(p, key))
}

/// Parses `Name: value` lines (CRLF or LF; a leading banner is skipped)
/// into a packet; NULL for NULL or empty text.
#[unsafe(no_mangle)]
pub extern "C" fn ami_parse_packet(packet_str: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || {
        let Some(text) = c_bytes(packet_str).filter(|t| !t.is_empty()) else { return null_mut() };
        let mut d = crate::codec::Decoder::client_banner_optional(crate::codec::Limits::default());
        d.feed(text);
        d.feed(b"\r\n\r\n");
        loop {
            match d.next_frame() {
                Ok(Some(crate::codec::Frame::Message(m))) => return from_message(&m, null_mut()),
                Ok(Some(crate::codec::Frame::Banner(_))) => continue,
                _ => return null_mut(),
            }
        }
    })
}

fn trim_in_place(s: *mut c_char, left: bool, right: bool, set: &[u8]) {
    let Some(bytes) = c_bytes(s) else { return };
    let len = bytes.len();
    let start = if left { bytes.iter().position(|b| !set.contains(b)).unwrap_or(len) } else { 0 };
    let end = if right { bytes.iter().rposition(|b| !set.contains(b)).map_or(start, |e| e + 1).max(start) } else { len };
    // SAFETY: `s` holds len + 1 bytes; the kept range and its NUL fit in them.
    unsafe {
        std::ptr::copy(s.add(start), s, end - start);
        *s.add(end - start) = 0;
    }
}

/// Removes leading blanks (spaces, tabs) in place.
#[unsafe(no_mangle)]
pub extern "C" fn ami_ltrim(s: *mut c_char) {
    guard((), || trim_in_place(s, true, false, b" \t"))
}

/// Removes trailing blanks (spaces, tabs) in place.
#[unsafe(no_mangle)]
pub extern "C" fn ami_rtrim(s: *mut c_char) {
    guard((), || trim_in_place(s, false, true, b" \t"))
}

/// Removes leading and trailing blanks in place.
#[unsafe(no_mangle)]
pub extern "C" fn ami_trim(s: *mut c_char) {
    guard((), || trim_in_place(s, true, true, b" \t"))
}

/// Removes trailing CR and LF in place.
#[unsafe(no_mangle)]
pub extern "C" fn ami_chomp(s: *mut c_char) {
    guard((), || trim_in_place(s, false, true, b"\r\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_ids_are_unmarked() {
        assert_eq!(visible_action_id(b"ami_42"), Some(&b"42"[..]));
        assert_eq!(visible_action_id(b"ami_"), None);
        assert_eq!(visible_action_id(b"ami_~x1-2"), None);
        assert_eq!(visible_action_id(b"other"), Some(&b"other"[..]));
    }
}
