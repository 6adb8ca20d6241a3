//! `--keep-revisions N`: which ACTIVE revisions of a family a green deploy deregisters. The
//! newest N are kept, and so is every revision something may still need: the one running, the
//! last good one (a rollback's target), and any a service of the cluster runs.

use super::plan::family_of;
use super::rollback::revision_of;

/// The revisions to deregister: the family's ACTIVE ones (`family_arns`, as ListTaskDefinitions
/// lists them by prefix) past the newest `keep`, except the `protected` ones. Oldest first.
pub fn plan_cleanup(
    family: &str,
    family_arns: &[String],
    keep: u32,
    protected: &[String],
) -> Vec<String> {
    let mut revisions: Vec<&String> = family_arns
        .iter()
        .filter(|a| family_of(a) == Some(family))
        .collect();
    revisions.sort_by_key(|a| std::cmp::Reverse(revision_of(a)));
    let mut out: Vec<String> = revisions
        .into_iter()
        .skip(usize::try_from(keep).unwrap_or(usize::MAX))
        .filter(|a| !protected.contains(a))
        .cloned()
        .collect();
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition";

    fn arns(family: &str, revisions: &[u32]) -> Vec<String> {
        revisions
            .iter()
            .map(|r| format!("{TD}/{family}:{r}"))
            .collect()
    }

    #[test]
    fn keeps_the_newest_and_every_protected_revision() {
        let mut listed = arns("web", &[1, 2, 3, 4, 5, 6]);
        listed.extend(arns("webapp", &[9]));
        let protected = [format!("{TD}/web:2"), format!("{TD}/web:6")];
        assert_eq!(
            plan_cleanup("web", &listed, 2, &protected),
            [
                format!("{TD}/web:1"),
                format!("{TD}/web:3"),
                format!("{TD}/web:4")
            ]
        );
        assert!(plan_cleanup("web", &listed, 10, &[]).is_empty());
        // Another family listed by prefix is never touched.
        assert!(
            plan_cleanup("web", &listed, 0, &[])
                .iter()
                .all(|a| a.contains("/web:"))
        );
    }
}
