//! Procedural macros for `lockdep-core`. Use them through `lockdep_core`, which re-exports them
//! (feature `macros`, on by default); every expansion names the crate as `::lockdep_core`.
//!
//! The macros are deliberately thin: each expands to a call of a `#[doc(hidden)]` function in
//! `lockdep_core::__private`, so that the behaviour lives (and is tested) in one place and the
//! generated code stays small.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Block, Expr, Item, ItemFn, Signature, Token, TraitItemFn};

/// A drop-in for `#[test]` that fails the test if lockdep reports anything on the test's
/// thread, or on the threads it starts through `lockdep_core::thread::{spawn, scope}`.
///
/// Every report is printed in full in the failure message. Reports go to the test, not to the
/// global mode, so the test runs to its end and shows all of them; a report raised by another
/// test (cargo runs tests in parallel, each on its own thread) never reaches this one.
/// `#[should_panic]`, `#[ignore]` and a `Result` return type work as with `#[test]`.
///
/// On an `async fn` (feature `tokio` of `lockdep-core`) it builds a tokio runtime as
/// `#[tokio::test]` does — current-thread, or `flavor = "multi_thread"` with an optional
/// `worker_threads = N` — and runs the body as a lockdep task: its locks are tracked per task,
/// sync locks held across `.await` are reported, and reports from the tasks it spawns with
/// `lockdep_core::tokio::spawn` reach the test.
///
/// ```
/// # use lockdep_core as _;
/// #[lockdep_core::test]
/// fn transfers_lock_in_one_order() {
///     let accounts = lockdep_core::Mutex::named("doc-test-accounts", ());
///     let log = lockdep_core::Mutex::named("doc-test-log", ());
///     let _a = accounts.lock();
///     let _l = log.lock();
/// }
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_test(args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Asserts at entry to a function or method that this thread holds each listed lock (the
/// kernel's `lockdep_assert_held`, Clang's `requires` capability).
///
/// Each argument is an expression for a lock (anything that implements
/// `lockdep_core::TrackedLock`, or a reference to one); it may use the function's parameters,
/// `self` included. The check is compiled out with the rest of lockdep: the expressions are then
/// type-checked but never evaluated.
///
/// ```
/// struct Account {
///     balance: lockdep_core::Mutex<u64>,
/// }
///
/// impl Account {
///     #[lockdep_core::requires(self.balance)]
///     fn audit(&self) {}
/// }
///
/// let account = Account { balance: lockdep_core::Mutex::new(10) };
/// let _held = account.balance.lock();
/// account.audit();
/// ```
#[proc_macro_attribute]
pub fn requires(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_check(Check::Requires, args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Asserts at entry to a function or method that this thread does *not* hold any of the listed
/// locks (the kernel's `lockdep_assert_not_held`, Clang's `excludes`). Arguments as for
/// [`macro@requires`]; compiled out with the checks.
///
/// ```
/// static CONFIG: lockdep_core::Mutex<u32> = lockdep_core::Mutex::new(0);
///
/// #[lockdep_core::excludes(CONFIG)]
/// fn reload() {
///     *CONFIG.lock() += 1; // would self-deadlock if the caller held CONFIG
/// }
///
/// reload();
/// ```
#[proc_macro_attribute]
pub fn excludes(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_check(Check::Excludes, args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Validates at entry to a function or method, for each listed lock, the dependency of taking
/// it (exclusively) on the locks this thread holds at that point — the caller's — without
/// taking it: the kernel's `might_lock`. So a lock that the function takes only on a rare path
/// has its order checked on every call. Arguments as for [`macro@requires`]; compiled out with
/// the checks.
///
/// ```
/// use lockdep_core::Mutex;
///
/// struct Cache {
///     hot: Mutex<Vec<u32>>,
///     backing: Mutex<Vec<u32>>,
/// }
///
/// impl Cache {
///     /// Takes `backing` only on a miss; every call checks that order against the caller's
///     /// locks, hits included.
///     #[lockdep_core::might_lock(self.backing)]
///     fn get(&self, i: usize) -> Option<u32> {
///         if let Some(v) = self.hot.lock().get(i) {
///             return Some(*v);
///         }
///         self.backing.lock().get(i).copied()
///     }
/// }
///
/// let cache = Cache {
///     hot: Mutex::named("doc-might-hot", vec![1]),
///     backing: Mutex::named("doc-might-backing", vec![1, 2]),
/// };
/// let session = Mutex::named("doc-might-session", ());
/// let _s = session.lock();
/// assert_eq!(cache.get(0), Some(1)); // a hit, yet session -> backing is now recorded
/// ```
#[proc_macro_attribute]
pub fn might_lock(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_check(Check::MightLock, args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn expand_test(args: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    let options = TestOptions::parse(args)?;
    let func = parse_fn(item, "`#[lockdep_core::test]`")?;
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = func;
    if let Some(attr) = attrs.iter().find(|a| is_test_attr(a)) {
        return Err(syn::Error::new_spanned(
            attr,
            "remove this `#[test]`: `#[lockdep_core::test]` already makes the function a test",
        ));
    }
    if !sig.inputs.is_empty() {
        return Err(syn::Error::new_spanned(
            &sig.inputs,
            "a `#[lockdep_core::test]` function takes no parameters",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            "a `#[lockdep_core::test]` function cannot be generic",
        ));
    }
    let name = sig.ident.clone();
    let output = sig.output.clone();
    let test_name = quote! {
        ::core::concat!(::core::module_path!(), "::", ::core::stringify!(#name))
    };
    if sig.asyncness.take().is_some() {
        // As `#[tokio::test]`: a runtime per test, current-thread unless told otherwise; the
        // body runs as a lockdep task, so its locks are tracked per task.
        let builder = options.builder();
        // The call is placed at the function's name: a failing test's panic names that line.
        // Through lockdep_core's macro, which says which feature is missing when tokio is.
        let call = quote_spanned! {name.span()=>
            ::lockdep_core::__async_test!(#test_name, #builder, __lockdep_test_body)
        };
        return Ok(quote! {
            #[::core::prelude::v1::test]
            #(#attrs)*
            #vis #sig {
                async fn __lockdep_test_body() #output #block
                #call
            }
        });
    }
    if let Some(span) = options.first {
        return Err(syn::Error::new(
            span,
            "`flavor` and `worker_threads` choose the runtime of an async test; this test is \
             not `async`",
        ));
    }
    // The body becomes an inner function rather than a closure, so that `?`, `return` and an
    // `impl Trait` return type mean exactly what they meant under `#[test]`.
    // The call is placed at the function's name: a failing test's panic names that line.
    let call = quote_spanned! {name.span()=>
        ::lockdep_core::__private::run_test(#test_name, __lockdep_test_body)
    };
    Ok(quote! {
        #[::core::prelude::v1::test]
        #(#attrs)*
        #vis #sig {
            fn __lockdep_test_body() #output #block
            #call
        }
    })
}

/// The arguments of `#[lockdep_core::test(...)]`: those of `#[tokio::test]` that choose the
/// runtime.
#[derive(Default)]
struct TestOptions {
    multi_thread: bool,
    worker_threads: Option<syn::LitInt>,
    /// Where the first argument is, if any.
    first: Option<Span>,
}

impl TestOptions {
    fn parse(args: TokenStream2) -> syn::Result<TestOptions> {
        let mut options = TestOptions::default();
        let pairs = Punctuated::<syn::MetaNameValue, Token![,]>::parse_terminated.parse2(args)?;
        for pair in &pairs {
            options.first.get_or_insert(pair.span());
            let key = pair.path.get_ident().map(ToString::to_string);
            match (key.as_deref(), &pair.value) {
                (
                    Some("flavor"),
                    Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(flavor),
                        ..
                    }),
                ) => {
                    options.multi_thread = match flavor.value().as_str() {
                        "multi_thread" => true,
                        "current_thread" => false,
                        _ => {
                            return Err(syn::Error::new_spanned(
                                flavor,
                                "unknown runtime flavor: expected \"current_thread\" or \
                                 \"multi_thread\"",
                            ))
                        }
                    };
                }
                (
                    Some("worker_threads"),
                    Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Int(n),
                        ..
                    }),
                ) => {
                    if n.base10_parse::<usize>()? == 0 {
                        return Err(syn::Error::new_spanned(
                            n,
                            "`worker_threads` must be at least 1",
                        ));
                    }
                    options.worker_threads = Some(n.clone());
                }
                _ => {
                    return Err(syn::Error::new_spanned(
                        pair,
                        "`#[lockdep_core::test]` takes `flavor = \"current_thread\"` or \
                         `flavor = \"multi_thread\"`, and `worker_threads = N`, for an async test",
                    ))
                }
            }
        }
        if let (Some(n), false) = (&options.worker_threads, options.multi_thread) {
            return Err(syn::Error::new_spanned(
                n,
                "`worker_threads` needs the multi-thread runtime: add `flavor = \"multi_thread\"`",
            ));
        }
        Ok(options)
    }

    /// The runtime builder, as an expression.
    fn builder(&self) -> TokenStream2 {
        let runtime = quote! { ::lockdep_core::__private::tokio::runtime::Builder };
        match (self.multi_thread, &self.worker_threads) {
            (false, _) => quote! { #runtime::new_current_thread() },
            (true, None) => quote! { #runtime::new_multi_thread() },
            (true, Some(n)) => quote! {{
                let mut builder = #runtime::new_multi_thread();
                builder.worker_threads(#n);
                builder
            }},
        }
    }
}

/// `#[test]`, `#[core::prelude::v1::test]` and the like; another crate's `#[x::test]` is left
/// alone (it would fail on its own terms).
fn is_test_attr(attr: &Attribute) -> bool {
    let segments = &attr.path().segments;
    let std_path = segments.len() == 1
        || segments
            .first()
            .is_some_and(|s| s.ident == "core" || s.ident == "std");
    std_path && segments.last().is_some_and(|s| s.ident == "test")
}

#[derive(Clone, Copy)]
enum Check {
    Requires,
    Excludes,
    MightLock,
}

impl Check {
    fn attr(self) -> &'static str {
        match self {
            Check::Requires => "`#[lockdep_core::requires]`",
            Check::Excludes => "`#[lockdep_core::excludes]`",
            Check::MightLock => "`#[lockdep_core::might_lock]`",
        }
    }

    fn example(self) -> &'static str {
        match self {
            Check::Requires => "#[lockdep_core::requires(self.state)]",
            Check::Excludes => "#[lockdep_core::excludes(self.state)]",
            Check::MightLock => "#[lockdep_core::might_lock(self.state)]",
        }
    }

    /// One check, spanned at the lock expression so that a failed assertion's location (the
    /// runtime functions are `#[track_caller]`) points at the attribute's argument.
    fn statement(self, function: &str, lock: &Expr) -> TokenStream2 {
        // `stringify!` would print `&self.x` as `& self.x`.
        let text = match lock {
            Expr::Reference(r) if r.mutability.is_none() => {
                let inner = &r.expr;
                quote!(::core::concat!("&", ::core::stringify!(#inner)))
            }
            _ => quote!(::core::stringify!(#lock)),
        };
        let call = match self {
            Check::Requires => quote_spanned! {lock.span()=>
                ::lockdep_core::__private::requires(&(#lock), #function, #text)
            },
            Check::Excludes => quote_spanned! {lock.span()=>
                ::lockdep_core::__private::excludes(&(#lock), #function, #text)
            },
            Check::MightLock => quote_spanned! {lock.span()=>
                ::lockdep_core::might_lock(&(#lock))
            },
        };
        // A constant condition: with the checks compiled out the whole statement folds away,
        // and the expression is still type-checked, so a release build cannot rot.
        quote_spanned! {lock.span()=>
            if ::lockdep_core::CHECKS_COMPILED_IN {
                #call;
            }
        }
    }
}

fn expand_check(check: Check, args: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    let locks = parse_locks(check, args)?;
    let mut func = parse_method(check, item)?;
    let (sig, block) = func.parts();
    if let Some(constness) = sig.constness {
        return Err(syn::Error::new_spanned(
            constness,
            format!(
                "{} cannot check a `const fn`: lock state is only known at run time",
                check.attr()
            ),
        ));
    }
    let function = sig.ident.to_string();
    let checks = locks.iter().map(|lock| {
        syn::parse2::<syn::Stmt>(check.statement(&function, lock))
            .expect("a check statement always parses")
    });
    block.stmts.splice(0..0, checks);
    Ok(func.into_token_stream())
}

fn parse_locks(check: Check, args: TokenStream2) -> syn::Result<Vec<Expr>> {
    if args.is_empty() {
        return Err(syn::Error::new(
            Span::call_site(),
            format!(
                "{} needs at least one lock expression, e.g. `{}`",
                check.attr(),
                check.example()
            ),
        ));
    }
    let locks = Punctuated::<Expr, Token![,]>::parse_terminated
        .parse2(args)
        .map_err(|e| {
            syn::Error::new(
                e.span(),
                format!(
                    "{} takes lock expressions separated by commas, e.g. `{}` ({e})",
                    check.attr(),
                    check.example()
                ),
            )
        })?;
    for lock in &locks {
        if let Expr::Lit(lit) = lock {
            return Err(syn::Error::new_spanned(
                lit,
                format!(
                    "{} takes lock expressions, not literals: write `{}`, not a string",
                    check.attr(),
                    check.example()
                ),
            ));
        }
    }
    Ok(locks.into_iter().collect())
}

fn parse_method(check: Check, item: TokenStream2) -> syn::Result<FunctionOut> {
    // Free functions and methods of an `impl` both parse as `ItemFn`.
    if let Ok(Item::Fn(func)) = syn::parse2::<Item>(item.clone()) {
        return Ok(FunctionOut::Item(func));
    }
    if let Ok(func) = syn::parse2::<TraitItemFn>(item.clone()) {
        return match func.default {
            Some(_) => Ok(FunctionOut::Trait(func)),
            None => Err(syn::Error::new_spanned(
                &func.sig,
                format!(
                    "{} needs a function body to check at entry; put it on the trait method's \
                     implementations (or give this method a default body)",
                    check.attr()
                ),
            )),
        };
    }
    Err(wrong_item(item, check.attr()))
}

/// The annotated function — a free function, a method of an `impl` (both parse as `ItemFn`), or
/// a trait method with a default body — kept in the shape it came in, so that it is printed back
/// unchanged apart from the inserted statements.
enum FunctionOut {
    Item(ItemFn),
    Trait(TraitItemFn),
}

impl FunctionOut {
    fn parts(&mut self) -> (&mut Signature, &mut Block) {
        match self {
            FunctionOut::Item(f) => (&mut f.sig, &mut f.block),
            FunctionOut::Trait(f) => (&mut f.sig, f.default.as_mut().expect("checked when parsed")),
        }
    }
}

fn parse_fn(item: TokenStream2, attr: &str) -> syn::Result<ItemFn> {
    match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(func)) => Ok(func),
        _ => Err(wrong_item(item, attr)),
    }
}

/// "`#[x]` can only be applied to functions", pointed at the item's keyword.
fn wrong_item(item: TokenStream2, attr: &str) -> syn::Error {
    let (what, span) = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Struct(s)) => ("a struct", s.struct_token.span()),
        Ok(Item::Enum(e)) => ("an enum", e.enum_token.span()),
        Ok(Item::Union(u)) => ("a union", u.union_token.span()),
        Ok(Item::Impl(i)) => ("an `impl` block", i.impl_token.span()),
        Ok(Item::Trait(t)) => ("a trait", t.trait_token.span()),
        Ok(Item::Mod(m)) => ("a module", m.mod_token.span()),
        Ok(Item::Static(s)) => ("a static", s.static_token.span()),
        Ok(Item::Const(c)) => ("a constant", c.const_token.span()),
        Ok(Item::Type(t)) => ("a type alias", t.type_token.span()),
        Ok(Item::Use(u)) => ("a `use` declaration", u.use_token.span()),
        _ => ("this item", first_span(&item)),
    };
    syn::Error::new(
        span,
        format!("{attr} can only be applied to a function or method, not to {what}"),
    )
}

fn first_span(tokens: &TokenStream2) -> Span {
    tokens
        .clone()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}

impl ToTokens for FunctionOut {
    fn to_tokens(&self, tokens: &mut TokenStream2) {
        match self {
            FunctionOut::Item(f) => f.to_tokens(tokens),
            FunctionOut::Trait(f) => f.to_tokens(tokens),
        }
    }
}
