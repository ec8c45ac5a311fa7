package nested

import "errors"

func Save(data []byte) error {
	if vsaveError, __fpErr := __fp_saveError.Acquire(); __fpErr == nil { saveError, __fpTypeOK := vsaveError.(string); if !__fpTypeOK { goto __badTypesaveError} 
		 if saveError != "" {
			for i := 0; i < 2; i++ {
				if i == 1 {
					return errors.New(saveError)
				}
			}
		 }; goto __nomocksaveError; __badTypesaveError: __fp_saveError.BadType(vsaveError, "string"); __nomocksaveError: };
	_ = data
	return nil
}
