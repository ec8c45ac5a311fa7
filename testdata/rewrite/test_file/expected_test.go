package testfile_test

import "testing"

func TestSomething(t *testing.T) {
	if vinTest, __fpErr := __fp_inTest.Acquire(); __fpErr == nil { _, __fpTypeOK := vinTest.(struct{}); if !__fpTypeOK { goto __badTypeinTest} ; goto __nomockinTest; __badTypeinTest: __fp_inTest.BadType(vinTest, "struct{}"); __nomockinTest: };
	t.Log("ran")
}
