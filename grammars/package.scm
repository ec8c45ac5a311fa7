; The package clause of a file: the binding file is declared in the same package.
(package_clause (package_identifier) @package)
